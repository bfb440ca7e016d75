import { randomUUID } from 'node:crypto';
import { ConfigError } from '../../shared/errors';
import {
  Ledger,
  LedgerConflictError,
  LedgerStateError,
  parseResumeWindow,
  targetRowKey,
  type TargetKey,
} from '../../shared/runs/ledger';
import type { RunRequest } from '../../shared/runs/request';
import {
  createRunStorage,
  resolveStorageSettings,
  type RunStorage,
  type StorageSettings,
} from '../../shared/runs/storage';
import type { Report, VmResult } from '../../shared/report';
import {
  azuriteAccount,
  endpointOf,
  startCountingProxy,
  throughProxy,
  type CountingProxy,
} from '../support/azurite';
import { createFakeClock, type FakeClock } from '../support/fakeClock';
import { reportWith } from '../support/report';

const CANARY = 'ledger-canary-77c1';
const HOUR = 3_600_000;

const storageFor = (connectionString: string) =>
  createRunStorage(
    resolveStorageSettings({ env: { AzureWebJobsStorage: connectionString } }) as StorageSettings,
  );

const result = (vmId: string, extra: Partial<VmResult> = {}): VmResult => ({
  vmId,
  appliance: 'default',
  outcome: 'Succeeded',
  sessionId: `s-${vmId}`,
  sessionStatus: 'Success',
  attempts: 1,
  durationMs: 10,
  ...extra,
});

const report = (runId: string, results: VmResult[]): Report => reportWith(results, { runId });

const keys = (n: number, prefix = 'vm'): TargetKey[] =>
  Array.from({ length: n }, (_, i) => ({ vmId: `${prefix}-${String(i).padStart(5, '0')}` }));

describe('parseResumeWindow', () => {
  it('defaults to six hours and reads ISO-8601 or seconds', () => {
    expect(parseResumeWindow(undefined)).toBe(6 * HOUR);
    expect(parseResumeWindow('PT30M')).toBe(30 * 60_000);
    expect(parseResumeWindow('90')).toBe(90_000);
  });
  it('names CLEANUP_RESUME_WINDOW for a bad value', () => {
    expect(() => parseResumeWindow('six hours')).toThrow(ConfigError);
    expect(() => parseResumeWindow('six hours')).toThrow(/^CLEANUP_RESUME_WINDOW:/);
  });
});

describe('targetRowKey', () => {
  it('is <appliance>|<vmId>, default appliance, with characters Table keys forbid encoded', () => {
    expect(targetRowKey({ vmId: 'a1b2' })).toBe('default|a1b2');
    expect(targetRowKey({ appliance: 'west|eu', vmId: 'x/y#z?%\\\n' })).toBe(
      'west%7Ceu|x%2Fy%23z%3F%25%5C%0A',
    );
  });
});

describe('Ledger on Azurite', () => {
  let connectionString: string;
  let proxy: CountingProxy;
  let storage: RunStorage;
  let clock: FakeClock;
  let ledger: Ledger;

  beforeAll(async () => {
    connectionString = await azuriteAccount();
    proxy = await startCountingProxy(endpointOf(connectionString, 'Table'));
    storage = await storageFor(throughProxy(connectionString, 'Table', proxy.url));
    // Azurite may still be starting on a busy machine.
  }, 120_000);
  beforeEach(async () => {
    // Each test starts with an empty run index: runs and open markers of earlier tests would show up in
    // listRuns, findResumable and closeStale (run partitions are per runId and never collide).
    const rows = [];
    const queryOptions = { filter: "PartitionKey eq '~runs'" };
    for await (const row of storage.table.listEntities({ queryOptions })) rows.push(row);
    await Promise.all(
      rows.map((r) => storage.table.deleteEntity(r.partitionKey as string, r.rowKey as string)),
    );
    clock = createFakeClock(Date.UTC(2026, 0, 1));
    ledger = new Ledger({ table: storage.table, setting: storage.settings.table, clock });
    proxy.requests.length = 0;
  });
  afterAll(() => proxy.close());

  /** Rows per partition of a run, read straight from the table. */
  async function partitionSizes(runId: string): Promise<Record<string, number>> {
    const sizes: Record<string, number> = {};
    const filter = `PartitionKey ge '${runId}' and PartitionKey lt '${runId}/'`;
    for await (const row of storage.table.listEntities({ queryOptions: { filter } })) {
      const partition = String(row.partitionKey);
      sizes[partition] = (sizes[partition] ?? 0) + 1;
    }
    return sizes;
  }

  it('walks a target through planned → submitting → submitted → settled, and openRun reads it all back', async () => {
    const runId = randomUUID();
    const run = await ledger.createRun({
      runId,
      trigger: 'http',
      request: { vmIds: ['vm-1', 'vm-2'], dryRun: false },
    });
    await run.planned([{ vmId: 'vm-1' }, { vmId: 'vm-2', appliance: 'west' }]);
    await run.submitting({ vmId: 'vm-1' });
    await run.submitted({ vmId: 'vm-1' }, ['sess-1']);
    await run.settled({ vmId: 'vm-1' }, result('vm-1'));
    await run.submitting({ vmId: 'vm-2', appliance: 'west' });

    const { ledger: opened, request } = await ledger.openRun(runId);
    expect(request).toEqual({ vmIds: ['vm-1', 'vm-2'], dryRun: false });
    expect(opened.run).toMatchObject({
      status: 'running',
      trigger: 'http',
      progress: { settled: 1, total: 2 },
    });
    expect(opened.target({ vmId: 'vm-1' })).toMatchObject({
      state: 'settled',
      sessionIds: ['sess-1'],
      result: result('vm-1'),
    });
    const groups = opened.targetsByState();
    expect(groups.submitting.map((t) => [t.appliance, t.vmId])).toEqual([['west', 'vm-2']]);
    expect(groups.settled).toHaveLength(1);
  });

  it('spreads a large run over partitions of 500 targets and reads them all back, resumed runs included', async () => {
    const runId = randomUUID();
    const run = await ledger.createRun({ runId, trigger: 'timer' });
    const first = keys(700);
    await run.planned(first);
    // Planned again later (a second appliance): the numbering goes on where it stopped.
    await run.planned(keys(500, 'west'));
    const rows = await partitionSizes(runId);
    // The run row shares the first partition with the first 500 targets.
    expect(rows).toEqual({ [runId]: 501, [`${runId}.1`]: 500, [`${runId}.2`]: 200 });

    await run.submitting(first[0]);
    await run.submitting(first[650]);
    await run.submitted(first[650], ['sess-650']);
    const { ledger: opened } = await ledger.openRun(runId);
    expect(opened.run.progress.total).toBe(1200);
    expect(opened.targetsByState().planned).toHaveLength(1198);
    expect(opened.target(first[650])).toMatchObject({ state: 'submitted', sessionIds: ['sess-650'] });
    // The reopened ledger writes each row back to the partition it came from, with that row's ETag.
    await opened.settled(first[650], result(first[650].vmId));
    await opened.settled(first[0], result(first[0].vmId));
    await opened.planned([{ vmId: 'late-1' }]);
    expect(await partitionSizes(runId)).toEqual({ ...rows, [`${runId}.2`]: 201 });
    const { ledger: again } = await ledger.openRun(runId);
    expect(
      again
        .targetsByState()
        .settled.map((t) => t.vmId)
        .sort(),
    ).toEqual([first[0].vmId, first[650].vmId]);
    expect(again.run.progress).toEqual({ settled: 2, total: 1201 });
  });

  it("reads no other run's rows, not even of a runId that starts with this one", async () => {
    const runId = randomUUID();
    const run = await ledger.createRun({ runId, trigger: 'timer' });
    await run.planned(keys(2));
    const other = await ledger.createRun({ runId: `${runId}-2`, trigger: 'timer' });
    await other.planned(keys(600, 'other'));
    const { ledger: opened } = await ledger.openRun(runId);
    expect(opened.targetsByState().planned.map((t) => t.vmId)).toEqual(keys(2).map((k) => k.vmId));
  });

  it('a conflict in one partition stops the writer in every partition', async () => {
    const runId = randomUUID();
    const first = await ledger.createRun({ runId, trigger: 'timer' });
    const targets = keys(600);
    await first.planned(targets);
    const { ledger: second } = await ledger.openRun(runId);
    // The takeover touches a target in the run's second partition only...
    await second.submitting(targets[550]);
    await expect(first.submitting(targets[550])).rejects.toBeInstanceOf(LedgerConflictError);
    // ...and the first writer is refused in the run's own partition too.
    await expect(first.submitting(targets[0])).rejects.toBeInstanceOf(LedgerConflictError);
    const { ledger: check } = await ledger.openRun(runId);
    expect(check.target(targets[0])?.state).toBe('planned');
  });

  it('refuses transitions the state machine does not allow', async () => {
    const run = await ledger.createRun({ runId: randomUUID(), trigger: 'timer' });
    await run.planned([{ vmId: 'vm-1' }]);
    await expect(run.submitted({ vmId: 'vm-1' }, ['s'])).rejects.toThrow(LedgerStateError);
    await expect(run.submitting({ vmId: 'vm-unknown' })).rejects.toThrow(/never planned/);
    await expect(run.planned([{ vmId: 'vm-1' }])).rejects.toThrow(/already/);
    await run.settled({ vmId: 'vm-1' }, result('vm-1', { outcome: 'Skipped', attempts: 0 }));
    await expect(run.submitting({ vmId: 'vm-1' })).rejects.toThrow(
      /settled to submitting|cannot go from settled/,
    );
  });

  it('fails a conflicting writer with LedgerConflictError instead of overwriting, and stays failed', async () => {
    const runId = randomUUID();
    const first = await ledger.createRun({ runId, trigger: 'timer' });
    await first.planned(keys(3));
    const { ledger: second } = await ledger.openRun(runId);
    await second.submitting(keys(3)[0]);
    await expect(first.submitting(keys(3)[0])).rejects.toBeInstanceOf(LedgerConflictError);
    // The first writer no longer owns the run: even rows the other did not touch are refused.
    await expect(first.submitting(keys(3)[1])).rejects.toBeInstanceOf(LedgerConflictError);
    const { ledger: check } = await ledger.openRun(runId);
    expect(check.target(keys(3)[0])?.state).toBe('submitting');
    expect(check.target(keys(3)[1])?.state).toBe('planned');
  });

  it('refuses a second run with the same runId', async () => {
    const runId = randomUUID();
    await ledger.createRun({ runId, trigger: 'timer' });
    await expect(ledger.createRun({ runId, trigger: 'cli' })).rejects.toThrow();
  });

  it('coalesces concurrent writes into transactions of at most 100 operations', async () => {
    const n = 250;
    const targets = keys(n);
    const run = await ledger.createRun({ runId: randomUUID(), trigger: 'timer' });
    proxy.requests.length = 0;
    await run.planned(targets);
    const plannedBatches = proxy.requests.filter((r) => r.path.includes('$batch')).length;
    // 250 inserts + the run row: 3 transactions.
    expect(plannedBatches).toBe(3);

    proxy.requests.length = 0;
    await Promise.all(targets.map((k) => run.submitting(k)));
    await Promise.all(targets.map((k, i) => run.submitted(k, [`s-${i}`])));
    await Promise.all(targets.map((k) => run.settled(k, result(k.vmId))));
    const requests = proxy.requests.length;
    expect(proxy.requests.every((r) => r.path.includes('$batch'))).toBe(true);
    // 3 × 250 target writes (+ one run-row update per settling transaction), 100 per transaction at best.
    expect(requests).toBeGreaterThanOrEqual(Math.ceil((3 * n) / 100));
    expect(requests).toBeLessThanOrEqual(12);
    expect(run.run.progress).toEqual({ settled: n, total: n });

    const { ledger: opened } = await ledger.openRun(run.runId);
    expect(opened.targetsByState().settled).toHaveLength(n);
    expect(opened.run.progress).toEqual({ settled: n, total: n });
  });

  it('lets writes that arrive while a transaction is in flight join the next one', async () => {
    const run = await ledger.createRun({ runId: randomUUID(), trigger: 'timer' });
    const targets = keys(5);
    await run.planned(targets);
    proxy.requests.length = 0;
    const first = run.submitting(targets[0]);
    // Issued later, while the first transaction is in flight: these four share the second.
    await Promise.resolve();
    await Promise.resolve();
    const rest = targets.slice(1).map((k) => run.submitting(k));
    await Promise.all([first, ...rest]);
    expect(proxy.requests).toHaveLength(2);
  });

  it('stores a large report in parts and reads it back once completed', async () => {
    const runId = randomUUID();
    const run = await ledger.createRun({ runId, trigger: 'timer' });
    const results = keys(400).map((k) =>
      result(k.vmId, {
        outcome: 'Warning',
        // Non-ASCII text around the 32 000-character cuts must survive.
        log: [{ time: '2026-01-01T00:00:00Z', status: 'Warning', message: `ünïcødé 🧹 ${'x'.repeat(300)}` }],
      }),
    );
    await run.planned(results.map((r) => ({ vmId: r.vmId })));
    await Promise.all(results.map((r) => run.settled({ vmId: r.vmId }, r)));
    const full = report(runId, results);
    expect(JSON.stringify(full).length).toBeGreaterThan(3 * 32_000);
    await run.complete(full);

    const view = await ledger.getRun(runId);
    expect(view?.status).toBe('completed');
    expect(view?.finishedAt).toBeDefined();
    expect(view?.report).toEqual(full);
    await expect(run.settled({ vmId: results[0].vmId }, results[0])).rejects.toThrow(LedgerStateError);
  });

  it('fits a huge VM result into its row by trimming its log first', async () => {
    const run = await ledger.createRun({ runId: randomUUID(), trigger: 'timer' });
    await run.planned([{ vmId: 'vm-big' }]);
    const log = Array.from({ length: 20 }, (_, i) => ({
      time: `t${i}`,
      status: 'Warning',
      message: `${i}:${'y'.repeat(40_000)}`,
    }));
    await run.settled({ vmId: 'vm-big' }, result('vm-big', { outcome: 'Warning', log }));
    const { ledger: opened } = await ledger.openRun(run.runId);
    const stored = opened.target({ vmId: 'vm-big' })?.result as VmResult;
    expect(stored.outcome).toBe('Warning');
    expect(stored.log).toHaveLength(20);
    expect(stored.log?.[19].message).toMatch(/^19:y+$/);
    expect(stored.log?.[19].message.length).toBe(500);
  });

  it('finds the newest resumable run inside the window, with targets grouped by state', async () => {
    const old = await ledger.createRun({ runId: randomUUID(), trigger: 'timer' });
    await old.interrupt('deadline');
    await clock.advance(HOUR);
    const newer = await ledger.createRun({ runId: randomUUID(), trigger: 'cli' });
    await newer.planned(keys(4));
    await newer.submitting(keys(4)[0]);
    await newer.submitting(keys(4)[1]);
    await newer.submitted(keys(4)[1], ['s-1']);
    await newer.settled(keys(4)[2], result(keys(4)[2].vmId, { outcome: 'Skipped', attempts: 0 }));
    await newer.interrupt('lease-lost');
    await clock.advance(HOUR);
    const done = await ledger.createRun({ runId: randomUUID(), trigger: 'timer' });
    await done.complete(report(done.runId, []));

    const found = await ledger.findResumable({ windowMs: 6 * HOUR, now: clock.now() });
    expect(found?.ledger.runId).toBe(newer.runId);
    expect(found?.ledger.run).toMatchObject({ status: 'interrupted', interruptReason: 'lease-lost' });
    expect(found?.targets.planned.map((t) => t.vmId)).toEqual([keys(4)[3].vmId]);
    expect(found?.targets.submitting.map((t) => t.vmId)).toEqual([keys(4)[0].vmId]);
    expect(found?.targets.submitted.map((t) => [t.vmId, t.sessionIds])).toEqual([[keys(4)[1].vmId, ['s-1']]]);
    expect(found?.targets.settled).toHaveLength(1);

    await found?.ledger.resume();
    expect((await ledger.getRun(newer.runId))?.resumes).toBe(1);
    // Outside the window: nothing to resume.
    expect(await ledger.findResumable({ windowMs: HOUR / 2, now: clock.now() })).toBeUndefined();
  });

  it('closes stale runs as interrupted with their unsettled targets, and never offers them again', async () => {
    const stale = await ledger.createRun({ runId: randomUUID(), trigger: 'timer' });
    await stale.planned(keys(3));
    await stale.settled(keys(3)[0], result(keys(3)[0].vmId));
    await stale.submitting(keys(3)[1]);
    await clock.advance(7 * HOUR);
    const fresh = await ledger.createRun({ runId: randomUUID(), trigger: 'timer' });

    const closed = await ledger.closeStale({ windowMs: 6 * HOUR, now: clock.now() });
    expect(closed).toEqual([
      {
        runId: stale.runId,
        startedAt: stale.run.startedAt,
        unsettled: [keys(3)[1], keys(3)[2]].map((k) => ({ appliance: 'default', vmId: k.vmId })),
      },
    ]);
    expect(await ledger.getRun(stale.runId)).toMatchObject({
      status: 'interrupted',
      interruptReason: 'stale',
      closedAt: new Date(clock.now()).toISOString(),
    });
    expect(await ledger.closeStale({ windowMs: 6 * HOUR, now: clock.now() })).toEqual([]);
    expect((await ledger.findResumable({ windowMs: 100 * HOUR, now: clock.now() }))?.ledger.runId).toBe(
      fresh.runId,
    );
  });

  it('lists the latest runs newest first, at most 50, without scanning run partitions', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 53; i++) {
      const run = await ledger.createRun({ runId: randomUUID(), trigger: 'timer' });
      ids.push(run.runId);
      await clock.advance(60_000);
    }
    proxy.requests.length = 0;
    const latest = await ledger.listRuns(3);
    expect(latest.map((r) => r.runId)).toEqual(ids.slice(-3).reverse());
    // One index query plus one point read per run.
    expect(proxy.requests).toHaveLength(4);
    const all = await ledger.listRuns(500);
    expect(all).toHaveLength(50);
    expect(all[0].runId).toBe(ids[52]);
    expect(all[49].runId).toBe(ids[3]);
    expect(await ledger.getRun(randomUUID())).toBeUndefined();
  });

  it('stores no secrets: only the known fields of the request, the report and the results', async () => {
    const runId = randomUUID();
    const request = { vmIds: ['vm-1'], dryRun: true, password: `pw-${CANARY}` } as RunRequest;
    const run = await ledger.createRun({ runId, trigger: 'http', request });
    await run.planned([{ vmId: 'vm-1' }]);
    const withSecret = { ...result('vm-1'), config: { password: `pw-${CANARY}`, token: `tok-${CANARY}` } };
    await run.settled({ vmId: 'vm-1' }, withSecret as VmResult);
    const full = { ...report(runId, [withSecret]), config: { veeamPassword: `pw-${CANARY}` } } as Report;
    await run.complete(full);
    await run.interrupt('error').catch(() => undefined);

    const rows = [];
    for await (const row of storage.table.listEntities()) rows.push(row);
    const stored = JSON.stringify(rows);
    expect(stored).toContain('vm-1');
    expect(stored).not.toContain(CANARY);
    expect((await ledger.openRun(runId)).request).toEqual({ vmIds: ['vm-1'], dryRun: true });
  });
});
