import { runCleanup } from '../../shared/cleanup/runCleanup';
import type { Report } from '../../shared/report';
import type { SimulatorHandle } from '../../dev/simulator';
import { configFor, FAST_CLIENT, startAppliance, USER, vms } from '../support/engine';

function expectEachOnce(report: Report, ids: string[]): void {
  expect(report.results.map((r) => r.vmId).sort()).toEqual([...ids].sort());
  expect(report.totals.targets).toBe(ids.length);
}

describe('runCleanup', () => {
  let appliance: SimulatorHandle | undefined;
  afterEach(async () => {
    await appliance?.close();
    appliance = undefined;
  });

  it('deletes on v8.1 and maps each session status to an outcome, with the log on Warning and Error', async () => {
    const fleet = [
      ...vms(3),
      { id: 'vm-warn', sessionDurationMs: 30, outcome: 'Warning' as const },
      { id: 'vm-err', sessionDurationMs: 30, outcome: 'Error' as const },
      { id: 'vm-empty', manualSnapshots: 0 },
    ];
    appliance = await startAppliance({ vms: fleet });
    const ids = fleet.map((vm) => vm.id);
    const report = await runCleanup({
      config: await configFor(appliance, ids),
      trigger: 'cli',
      client: FAST_CLIENT,
    });

    expect(report.apiVersion).toBe('v8.1');
    expectEachOnce(report, ids);
    const byId = Object.fromEntries(report.results.map((r) => [r.vmId, r]));
    expect(byId['vm-001']).toMatchObject({ outcome: 'Succeeded', sessionStatus: 'Success', attempts: 1 });
    expect(byId['vm-001'].sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(byId['vm-warn']).toMatchObject({ outcome: 'Warning', sessionStatus: 'Warning' });
    expect(byId['vm-warn'].log?.length).toBeGreaterThan(0);
    expect(byId['vm-err']).toMatchObject({ outcome: 'Failed', sessionStatus: 'Error' });
    expect(byId['vm-err'].log?.length).toBeGreaterThan(0);
    expect(byId['vm-err'].error).toMatch(/Error/);
    expect(byId['vm-empty']).toMatchObject({ outcome: 'Succeeded', attempts: 1 });
    expect(byId['vm-empty'].sessionId).toBeUndefined();
    expect(report.totals).toMatchObject({ succeeded: 4, warning: 1, failed: 1, timedOut: 0, skipped: 0 });
    for (const id of ids) expect(appliance.counters.deleteCallsByVm[id]).toBe(1);
    expect(
      appliance.getVm('vm-001')?.restorePoints.some((p) => p.backupDestination === 'ManualSnapshot'),
    ).toBe(false);
    expect(appliance.getVm('vm-001')?.restorePoints.some((p) => p.backupDestination === 'Snapshot')).toBe(
      true,
    );
  });

  it('runs against a v1-only appliance with numeric session ids', async () => {
    appliance = await startAppliance({ vms: vms(4), versions: ['v1'] });
    const ids = vms(4).map((vm) => vm.id);
    const report = await runCleanup({
      config: await configFor(appliance, ids),
      trigger: 'cli',
      client: FAST_CLIENT,
    });
    expect(report.apiVersion).toBe('v1');
    expectEachOnce(report, ids);
    for (const r of report.results) {
      expect(r.outcome).toBe('Succeeded');
      expect(r.sessionId).toMatch(/^\d+$/);
    }
  });

  it('reports invalid and duplicate ids without calling the appliance for them', async () => {
    appliance = await startAppliance({ vms: vms(2) });
    const config = await configFor(appliance, ['vm-001', 'vm-002', 'vm-001', 'bad_id!', 'x'.repeat(129)]);
    const report = await runCleanup({ config, trigger: 'cli', client: FAST_CLIENT });
    expect(report.duplicatesRemoved).toBe(1);
    expect(report.totals).toMatchObject({ targets: 4, succeeded: 2, invalid: 2 });
    const invalid = report.results.filter((r) => r.outcome === 'InvalidId');
    expect(invalid.map((r) => r.attempts)).toEqual([0, 0]);
    expect(Object.keys(appliance.counters.deleteCallsByVm).sort()).toEqual(['vm-001', 'vm-002']);
  });

  it('a dry run lists the manual snapshots and deletes nothing', async () => {
    appliance = await startAppliance({ vms: vms(3, { manualSnapshots: 2 }) });
    const ids = vms(3).map((vm) => vm.id);
    const report = await runCleanup({
      config: await configFor(appliance, ids, { CLEANUP_DRY_RUN: 'true' }),
      trigger: 'cli',
      client: FAST_CLIENT,
    });
    expect(report.dryRun).toBe(true);
    expect(report.totals.wouldDelete).toBe(3);
    for (const r of report.results) {
      expect(r.outcome).toBe('WouldDelete');
      expect(r.snapshots).toHaveLength(2);
      expect(r.snapshots?.[0]).toEqual(
        expect.objectContaining({ id: expect.any(String), pointInTime: expect.any(String) }),
      );
    }
    expect(appliance.counters.deleteCallsByVm).toEqual({});
  });

  it('stops submitting near the deadline: unsent VMs are Skipped(deadline), running sessions TimedOut', async () => {
    const fleet = [{ id: 'vm-slow', sessionDurationMs: 60_000 }, ...vms(20)];
    appliance = await startAppliance({ vms: fleet, latencyMs: 30 });
    const ids = fleet.map((vm) => vm.id);
    const report = await runCleanup({
      config: await configFor(appliance, ids, { CLEANUP_CONCURRENCY: '1' }),
      trigger: 'timer',
      client: FAST_CLIENT,
      deadline: Date.now() + 1_200,
      submitMarginMs: 600,
    });
    expectEachOnce(report, ids);
    const slow = report.results.find((r) => r.vmId === 'vm-slow');
    expect(slow).toMatchObject({ outcome: 'TimedOut', sessionStatus: 'Running' });
    expect(slow?.sessionId).toBeTruthy();
    const skipped = report.results.filter((r) => r.outcome === 'Skipped');
    expect(skipped.length).toBeGreaterThan(0);
    for (const r of skipped) {
      expect(r.error).toBe('deadline');
      expect(appliance.counters.deleteCallsByVm[r.vmId]).toBeUndefined();
    }
  });

  it('an abort still returns a report: running sessions TimedOut, the rest Skipped(aborted)', async () => {
    const fleet = vms(12, { sessionDurationMs: 60_000 });
    appliance = await startAppliance({ vms: fleet, latencyMs: 20 });
    const ids = fleet.map((vm) => vm.id);
    const abort = new AbortController();
    const report = await runCleanup({
      config: await configFor(appliance, ids, { CLEANUP_CONCURRENCY: '2' }),
      trigger: 'cli',
      client: FAST_CLIENT,
      abortSignal: abort.signal,
      onProgress: (p) => {
        if (p.phase === 'submitted' && p.vmId === 'vm-004') abort.abort();
      },
    });
    expectEachOnce(report, ids);
    const timedOut = report.results.filter((r) => r.outcome === 'TimedOut');
    expect(timedOut.length).toBeGreaterThan(0);
    for (const r of timedOut) expect(r.sessionId).toBeTruthy();
    const skipped = report.results.filter((r) => r.outcome === 'Skipped');
    expect(skipped.length).toBeGreaterThan(0);
    for (const r of skipped) expect(r.error).toBe('aborted');
  });

  it('trips the circuit breaker when the appliance goes away mid-run', async () => {
    const fleet = vms(30, { sessionDurationMs: 20 });
    appliance = await startAppliance({ vms: fleet, latencyMs: 10 });
    const ids = fleet.map((vm) => vm.id);
    const config = await configFor(appliance, ids, { CLEANUP_CONCURRENCY: '1' });
    const handle = appliance;
    let closing: Promise<void> | undefined;
    const report = await runCleanup({
      config,
      trigger: 'timer',
      client: FAST_CLIENT,
      onProgress: (p) => {
        if (p.phase === 'settled' && p.settled === 3 && !closing) closing = handle.close();
      },
    });
    await closing;
    appliance = undefined;
    expectEachOnce(report, ids);
    const skipped = report.results.filter((r) => r.outcome === 'Skipped');
    expect(skipped.length).toBeGreaterThan(15);
    for (const r of skipped) expect(r.error).toBe('appliance unavailable');
    expect(report.failure).toBeUndefined();
  });

  it('fails the run up front when the credentials are rejected, touching no VM', async () => {
    appliance = await startAppliance({ vms: vms(3) });
    const config = await configFor(appliance, ['vm-001', 'vm-002']);
    const report = await runCleanup({
      config: { ...config, appliances: [{ ...config.appliances[0], password: 'CANARY-WRONG-PASSWORD' }] },
      trigger: 'cli',
      client: FAST_CLIENT,
    });
    expect(report.failure?.kind).toBe('auth');
    expect(report.totals).toMatchObject({ targets: 2, skipped: 2 });
    expect(appliance.counters.deleteCallsByVm).toEqual({});
    expect(JSON.stringify(report)).not.toContain('CANARY');
  });

  it('reports an MFA-enabled account clearly', async () => {
    appliance = await startSimulatorWithMfa();
    const config = await configFor(appliance, ['vm-001']);
    const report = await runCleanup({ config, trigger: 'cli', client: FAST_CLIENT });
    expect(report.failure).toEqual({
      kind: 'mfa',
      message:
        'MFA is enabled for this account; use a service account without MFA (appliance URL from VEEAM_URL, environment)',
    });
  });

  it('keeps every VM exactly once and never deletes twice under injected faults', async () => {
    const fleet = vms(40, { sessionDurationMs: 30 });
    appliance = await startAppliance({
      vms: fleet,
      seed: 7,
      faults: [
        { route: '*', kind: 'status', status: 503, probability: 0.1, retryAfter: '0' },
        { route: '*', kind: 'status', status: 429, probability: 0.05 },
        { route: 'v8.1.getSession', kind: 'status', status: 502, probability: 0.1 },
        { route: 'v8.1.deleteManualSnapshots', kind: 'drop', phase: 'after', times: 2 },
      ],
    });
    const ids = fleet.map((vm) => vm.id);
    const report = await runCleanup({
      config: await configFor(appliance, ids),
      trigger: 'timer',
      client: FAST_CLIENT,
    });
    expectEachOnce(report, ids);
    for (const id of ids) expect(appliance.counters.deleteCallsByVm[id] ?? 0).toBeLessThanOrEqual(1);
    expect(report.totals.succeeded).toBeGreaterThanOrEqual(38);
  });

  it('deletes in batches on v8.1 and settles every VM of the batch', async () => {
    const fleet = [...vms(5), { id: 'vm-bad', sessionDurationMs: 30, outcome: 'Error' as const }];
    appliance = await startAppliance({ vms: fleet });
    const ids = fleet.map((vm) => vm.id);
    const report = await runCleanup({
      config: await configFor(appliance, ids, { CLEANUP_BATCH: 'true', VEEAM_API_VERSION: 'v8.1' }),
      trigger: 'cli',
      client: FAST_CLIENT,
      batchSize: 4,
    });
    expectEachOnce(report, ids);
    expect(appliance.counters.requestsByRoute['v8.1.batchDeleteManualSnapshots']).toBe(2);
    expect(appliance.counters.requestsByRoute['v8.1.deleteManualSnapshots'] ?? 0).toBe(0);
    expect(report.results.find((r) => r.vmId === 'vm-bad')?.outcome).toBe('Failed');
    expect(report.results.filter((r) => r.outcome === 'Succeeded')).toHaveLength(5);
  });

  async function startSimulatorWithMfa(): Promise<SimulatorHandle> {
    return startAppliance({ users: [{ ...USER, mfa: true }], vms: vms(1) });
  }
});
