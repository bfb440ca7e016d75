import { setTimeout as realSleep } from 'node:timers/promises';
import { HttpRequest } from '@azure/functions';
import { startRun, type StartRunResult } from '../../shared/cleanup';
import { systemClock } from '../../shared/clock';
import { ConfigError } from '../../shared/errors';
import type { Report } from '../../shared/report';
import { Ledger } from '../../shared/runs/ledger';
import { LEASE_BLOB } from '../../shared/runs/lease';
import {
  createRunStorage,
  resolveStorageSettings,
  type RunStorage,
  type StorageSettings,
} from '../../shared/runs/storage';
import { createVeeamClient } from '../../shared/veeam/client';
import type { SimulatorHandle } from '../../dev/simulator';
import {
  executeSnapshotCleanupRun,
  snapshotCleanupRunPoisoned,
} from '../../functions/executeSnapshotCleanupRun';
import { getSnapshotCleanupRun } from '../../functions/getSnapshotCleanupRun';
import { runSnapshotCleanup } from '../../functions/runSnapshotCleanup';
import { azuriteAccount } from '../support/azurite';
import { FAST_CLIENT, settingsFor, startAppliance, USER, vms } from '../support/engine';
import { createFakeClock } from '../support/fakeClock';
import { invocation, postCleanup, setEnv } from '../support/functions';

const completed = (started: StartRunResult): Report => {
  if (started.status !== 'completed') throw new Error(`expected a completed run, got ${started.status}`);
  return started.report;
};
const expectEachOnce = (report: Report, ids: readonly string[]) =>
  expect(report.results.map((r) => r.vmId).sort()).toEqual([...ids].sort());

describe('startRun with storage (Azurite): lease, ledger, resume', () => {
  let connectionString: string;
  let storage: RunStorage;
  let appliance: SimulatorHandle | undefined;

  beforeAll(async () => {
    connectionString = await azuriteAccount();
    storage = await createRunStorage(
      resolveStorageSettings({ env: { AzureWebJobsStorage: connectionString } }) as StorageSettings,
    );
  }, 120_000);
  afterEach(async () => {
    await appliance?.close();
    appliance = undefined;
    // Each test starts from an empty ledger.
    for await (const entity of storage.table.listEntities()) {
      await storage.table.deleteEntity(entity.partitionKey as string, entity.rowKey as string);
    }
  });

  const ledger = () =>
    new Ledger({ table: storage.table, setting: 'AzureWebJobsStorage', clock: systemClock });

  it('one run at a time: a second start gets the holder runId; after release a third proceeds', async () => {
    const fleet = vms(3, { sessionDurationMs: 600 });
    appliance = await startAppliance({ vms: fleet });
    const env = settingsFor(
      appliance,
      fleet.map((vm) => vm.id),
    );
    let firstRunId: string | undefined;
    const first = startRun({
      trigger: 'timer',
      env,
      storage,
      client: FAST_CLIENT,
      onProgress: () => {},
      logger: { info: () => {}, warn: () => {}, error: () => {} },
    }).then((s) => {
      firstRunId = completed(s).runId;
      return s;
    });
    // Wait until the first run has sent its deletes (it holds the lease by then).
    for (let i = 0; i < 400 && Object.keys(appliance.counters.deleteCallsByVm).length < 3; i++)
      await realSleep(10);
    const second = await startRun({ trigger: 'http', env, storage, client: FAST_CLIENT });
    expect(second.status).toBe('busy');
    await first;
    expect(second).toEqual({ status: 'busy', holderRunId: firstRunId });
    const third = completed(await startRun({ trigger: 'cli', env, storage, client: FAST_CLIENT }));
    expect(third.runId).not.toBe(firstRunId);
    // The third run found the first one's sessions finished and deleted nothing twice.
    for (const vm of fleet) expect(appliance.counters.deleteCallsByVm[vm.id]).toBe(2);
    const runs = await ledger().listRuns(10);
    expect(runs.map((r) => r.status)).toEqual(['completed', 'completed']);
  });

  it('a lost lease stops the run and records it interrupted; the next start resumes it without a second delete', async () => {
    const clock = createFakeClock(Date.now());
    const fleet = vms(24, { sessionDurationMs: 3_000 });
    appliance = await startAppliance({ vms: fleet, now: () => clock.now() });
    const ids = fleet.map((vm) => vm.id);
    const env = {
      ...settingsFor(appliance, ids, { CLEANUP_CONCURRENCY: '1' }),
      CLEANUP_LEASE_DURATION: '15',
    };
    const handle = appliance;
    let done = false;
    let broken = false;
    const running = startRun({ trigger: 'timer', env, storage, clock, client: FAST_CLIENT }).finally(
      () => (done = true),
    );
    while (!done) {
      await realSleep(3);
      if (!broken && Object.keys(handle.counters.deleteCallsByVm).length >= 3) {
        broken = true;
        await storage.container.getBlobClient(LEASE_BLOB).getBlobLeaseClient().breakLease(0);
      }
      await clock.advance(100);
    }
    const first = completed(await running);
    expectEachOnce(first, ids);
    // It stopped submitting: the rest is Skipped (aborted), sessions it was following are TimedOut.
    expect(first.results.some((r) => r.skipReason === 'aborted')).toBe(true);
    for (const r of first.results.filter((x) => x.outcome === 'TimedOut'))
      expect(r.error).toMatch(/interrupted/);
    const sent = Object.keys(appliance.counters.deleteCallsByVm).length;
    expect(sent).toBeLessThan(ids.length);
    const recorded = await ledger().getRun(first.runId);
    expect(recorded?.status).toBe('interrupted');

    done = false;
    const resuming = startRun({ trigger: 'cli', env, storage, clock, client: FAST_CLIENT }).finally(
      () => (done = true),
    );
    while (!done) {
      await realSleep(3);
      await clock.advance(100);
    }
    const resumed = completed(await resuming);
    expect(resumed.runId).toBe(first.runId);
    expect(resumed.resumedFrom).toMatchObject({ runId: first.runId });
    expectEachOnce(resumed, ids);
    expect(resumed.results.filter((r) => r.outcome !== 'Succeeded')).toEqual([]);
    for (const id of ids) expect(appliance.counters.deleteCallsByVm[id]).toBe(1);
    expect((await ledger().getRun(first.runId))?.status).toBe('completed');
  });

  it.each(['v8.1', 'v1'] as const)(
    'a crash between "submitting" and the answer (%s): the resume looks before it sends, and never sends twice',
    async (version) => {
      const fleet = vms(3, { sessionDurationMs: 50 });
      appliance = await startAppliance({ vms: fleet, versions: [version] });
      const ids = fleet.map((vm) => vm.id);
      const env = settingsFor(appliance, ids);
      // The crashed run: vm-001 was recorded "submitting" and its delete reached the appliance; then it died.
      const crashed = await ledger().createRun({
        runId: '9f0d5c2e-1111-4d7e-9a55-0123456789ab',
        trigger: 'timer',
      });
      await crashed.planned(ids.map((vmId) => ({ vmId })));
      await crashed.submitting({ vmId: 'vm-001' });
      const client = createVeeamClient({ baseUrl: appliance.url, ...USER, apiVersion: version });
      await client.deleteSnapshots('vm-001');
      client.close();
      await crashed.interrupt('shutdown');

      const report = completed(await startRun({ trigger: 'timer', env, storage, client: FAST_CLIENT }));
      expect(report.runId).toBe(crashed.runId);
      expectEachOnce(report, ids);
      for (const id of ids) expect(appliance.counters.deleteCallsByVm[id]).toBe(1);
      const first = report.results.find((r) => r.vmId === 'vm-001');
      if (version === 'v8.1') {
        expect(first).toMatchObject({ outcome: 'Succeeded', attempts: 0 });
        expect(first?.note).toMatch(/resumed/);
      } else {
        expect(first).toMatchObject({ outcome: 'Failed' });
        expect(first?.error).toMatch(/unknown whether the delete was accepted/);
      }
      for (const r of report.results.filter((x) => x.vmId !== 'vm-001')) expect(r.outcome).toBe('Succeeded');
    },
  );

  it('storage that cannot be reached stops the start before anything is sent, naming the setting', async () => {
    appliance = await startAppliance({ vms: vms(1) });
    const env = {
      ...settingsFor(appliance, ['vm-001']),
      AzureWebJobsStorage:
        'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Q0FOQVJZLWtleS0xMjM0NQ==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;TableEndpoint=http://127.0.0.1:9/devstoreaccount1',
    };
    const error = await startRun({ trigger: 'timer', env, client: FAST_CLIENT }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/AzureWebJobsStorage/);
    expect((error as ConfigError).message).not.toContain('Q0FOQVJZ');
    expect(appliance.counters.deleteCallsByVm).toEqual({});
  });

  it('background admin run: POST → 202 + Location → queue → handler → GET run → completed report; no secret in the ledger', async () => {
    const fleet = vms(2, { sessionDurationMs: 30 });
    appliance = await startAppliance({ vms: fleet });
    const restore = setEnv({
      ...settingsFor(
        appliance,
        fleet.map((vm) => vm.id),
      ),
      AzureWebJobsStorage: connectionString,
    });
    try {
      const posted = await runSnapshotCleanup(
        postCleanup(JSON.stringify({ waitSeconds: 0 }), { 'content-type': 'application/json' }),
        invocation('runSnapshotCleanup').context,
      );
      expect(posted.status).toBe(202);
      const location = (posted.headers as Record<string, string>).location;
      const runId = (posted.jsonBody as { runId: string }).runId;
      expect(location).toMatch(new RegExp(`/api/cleanup/runs/${runId}$`));

      const [message] = (await storage.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
      expect(message).toBeDefined();
      await executeSnapshotCleanupRun(message.messageText, invocation('executeSnapshotCleanupRun').context);
      // A redelivered message finds the run finished and does nothing.
      await executeSnapshotCleanupRun(message.messageText, invocation('executeSnapshotCleanupRun').context);
      for (const vm of fleet) expect(appliance.counters.deleteCallsByVm[vm.id]).toBe(1);

      const got = await getSnapshotCleanupRun(
        new HttpRequest({
          url: `http://localhost${location.replace(/^https?:\/\/[^/]+/, '')}`,
          method: 'GET',
          params: { runId },
        }),
        invocation('getSnapshotCleanupRun').context,
      );
      expect(got.status).toBe(200);
      const body = got.jsonBody as {
        status: string;
        report: Report;
        progress: { settled: number; total: number };
      };
      expect(body.status).toBe('completed');
      expect(body.progress).toEqual({ settled: 2, total: 2 });
      expectEachOnce(
        body.report,
        fleet.map((vm) => vm.id),
      );

      const list = await getSnapshotCleanupRun(
        new HttpRequest({ url: 'http://localhost/api/cleanup/runs?last=5', method: 'GET' }),
        invocation('getSnapshotCleanupRun').context,
      );
      expect((list.jsonBody as { runs: Array<{ runId: string }> }).runs.map((r) => r.runId)).toContain(runId);
      const bad = await getSnapshotCleanupRun(
        new HttpRequest({
          url: 'http://localhost/api/cleanup/runs/nope',
          method: 'GET',
          params: { runId: 'nope' },
        }),
        invocation('getSnapshotCleanupRun').context,
      );
      expect(bad.status).toBe(400);

      const rows: string[] = [];
      for await (const entity of storage.table.listEntities()) rows.push(JSON.stringify(entity));
      expect(rows.length).toBeGreaterThan(2);
      expect(rows.join('\n')).not.toContain(USER.password);
    } finally {
      restore();
    }
  });

  it('an invalid message is logged and dropped; a poisoned one closes its run as interrupted', async () => {
    const restore = setEnv({ AzureWebJobsStorage: connectionString });
    try {
      const { context, logs } = invocation('executeSnapshotCleanupRun');
      await expect(
        executeSnapshotCleanupRun({ runId: 'x', trigger: 'http', request: { extra: 1 } }, context),
      ).resolves.toBeUndefined();
      expect(logs.some((l) => l.level === 'error' && /invalid run message/.test(l.message))).toBe(true);

      const run = await ledger().createRun({
        runId: '7c1f1d4e-2222-4d7e-9a55-0123456789ab',
        trigger: 'http',
        request: {},
      });
      await snapshotCleanupRunPoisoned(
        { runId: run.runId, trigger: 'http', request: {} },
        invocation('snapshotCleanupRunPoisoned').context,
      );
      expect((await ledger().getRun(run.runId))?.status).toBe('interrupted');
      expect(await ledger().findResumable({ windowMs: 3_600_000, now: Date.now() })).toBeUndefined();
    } finally {
      restore();
    }
  });
});
