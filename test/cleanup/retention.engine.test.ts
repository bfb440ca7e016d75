import { runCleanup } from '../../shared/cleanup/runCleanup';
import type { Report, SnapshotInfo } from '../../shared/report';
import type { SimRestorePointSpec, SimulatorHandle } from '../../dev/simulator';
import { configFor, FAST_CLIENT, startAppliance } from '../support/engine';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RETENTION = { CLEANUP_MIN_AGE: 'P7D', CLEANUP_KEEP_LATEST: '1' };

/** Deterministic uuids, so tests can aim faults at one point and read what remains. */
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const manual = (n: number, ageMs: number, extra: Partial<SimRestorePointSpec> = {}): SimRestorePointSpec => ({
  id: uuid(n),
  ageMs,
  ...extra,
});
const policy = (n: number): SimRestorePointSpec => ({
  id: uuid(n),
  backupDestination: 'Snapshot',
  ageMs: 40 * DAY,
});

const FLEET = [
  // 1 h and 2 d are young; 1 h is also the newest; 10, 40 and 200 days go.
  {
    id: 'vm-mixed',
    sessionDurationMs: 30,
    restorePoints: [
      manual(1, HOUR),
      manual(2, 2 * DAY),
      manual(3, 10 * DAY),
      manual(4, 40 * DAY),
      manual(5, 200 * DAY),
      policy(6),
    ],
  },
  // The newest is immutable (kept), 60 d is locked (423), 90 d goes.
  {
    id: 'vm-locked',
    sessionDurationMs: 30,
    restorePoints: [
      manual(11, 30 * DAY, { immutableForMs: 10 * DAY }),
      manual(12, 60 * DAY, { locked: true }),
      manual(13, 90 * DAY),
    ],
  },
  // Only a snapshot someone took an hour ago: nothing is due.
  { id: 'vm-fresh', sessionDurationMs: 30, restorePoints: [manual(21, HOUR), policy(22)] },
  // 20 d vanishes between the listing and its DELETE (404: already gone); 8 d newest kept by keepLatest.
  { id: 'vm-vanish', sessionDurationMs: 30, restorePoints: [manual(31, 8 * DAY), manual(32, 20 * DAY)] },
];
const IDS = FLEET.map((vm) => vm.id);

function snapshotsOf(report: Report, vmId: string): Record<string, SnapshotInfo> {
  const result = report.results.find((r) => r.vmId === vmId);
  return Object.fromEntries((result?.snapshots ?? []).map((s) => [s.id, s]));
}

describe('retention per restore point', () => {
  let appliance: SimulatorHandle | undefined;
  afterEach(async () => {
    await appliance?.close();
    appliance = undefined;
  });

  it('deletes exactly the due manual snapshots, one DELETE each, and never calls the bulk endpoints', async () => {
    appliance = await startAppliance({
      vms: FLEET,
      faults: [{ route: 'v8.1.deleteRestorePoint', kind: 'vanish', restorePointId: uuid(32) }],
    });
    const report = await runCleanup({
      config: await configFor(appliance, IDS, RETENTION),
      trigger: 'cli',
      client: FAST_CLIENT,
    });

    expect(report.results.map((r) => r.vmId).sort()).toEqual([...IDS].sort());
    const remaining = (vmId: string) =>
      appliance!
        .getVm(vmId)!
        .restorePoints.map((p) => p.id)
        .sort();
    expect(remaining('vm-mixed')).toEqual([uuid(1), uuid(2), uuid(6)]);
    expect(remaining('vm-locked')).toEqual([uuid(11), uuid(12)]);
    expect(remaining('vm-fresh')).toEqual([uuid(21), uuid(22)]);
    expect(remaining('vm-vanish')).toEqual([uuid(31)]);

    const byId = Object.fromEntries(report.results.map((r) => [r.vmId, r]));
    expect(byId['vm-mixed']).toMatchObject({
      outcome: 'Succeeded',
      deletedSnapshots: 3,
      keptSnapshots: 2,
      lockedSnapshots: 0,
      attempts: 3,
    });
    const mixed = snapshotsOf(report, 'vm-mixed');
    expect(mixed[uuid(1)]).toMatchObject({ action: 'kept' });
    expect(mixed[uuid(2)]).toMatchObject({ action: 'kept', reason: 'younger than P7D' });
    expect(mixed[uuid(3)].action).toBe('deleted');
    expect(mixed[uuid(3)].sessionId).toBeTruthy();
    expect(mixed[uuid(6)]).toBeUndefined(); // not a manual snapshot: not even listed

    expect(byId['vm-locked']).toMatchObject({
      outcome: 'Warning',
      deletedSnapshots: 1,
      keptSnapshots: 1,
      lockedSnapshots: 1,
    });
    const locked = snapshotsOf(report, 'vm-locked');
    expect(locked[uuid(11)].action).toBe('immutable');
    expect(locked[uuid(12)].action).toBe('locked');
    expect(locked[uuid(13)].action).toBe('deleted');

    expect(byId['vm-fresh']).toMatchObject({
      outcome: 'Succeeded',
      deletedSnapshots: 0,
      keptSnapshots: 1,
      attempts: 0,
    });
    expect(byId['vm-vanish']).toMatchObject({ outcome: 'Succeeded', deletedSnapshots: 1, keptSnapshots: 1 });
    expect(snapshotsOf(report, 'vm-vanish')[uuid(32)]).toMatchObject({ action: 'gone' });

    const { counters } = appliance;
    expect(counters.requestsByRoute['v8.1.deleteManualSnapshots'] ?? 0).toBe(0);
    expect(counters.requestsByRoute['v8.1.batchDeleteManualSnapshots'] ?? 0).toBe(0);
    expect(counters.deleteCallsByVm).toEqual({});
    // 423 is never retried in the run; every point got exactly one DELETE.
    for (const id of [uuid(3), uuid(4), uuid(5), uuid(12), uuid(13)])
      expect(counters.pointDeleteCallsByPoint[id]).toBe(1);
    for (const id of [uuid(1), uuid(2), uuid(11), uuid(21), uuid(31)])
      expect(counters.pointDeleteCallsByPoint[id]).toBeUndefined();
  });

  it('a dry run lists every manual snapshot with its decision and sends no DELETE', async () => {
    appliance = await startAppliance({ vms: FLEET });
    const report = await runCleanup({
      config: await configFor(appliance, IDS, { ...RETENTION, CLEANUP_DRY_RUN: 'true' }),
      trigger: 'cli',
      client: FAST_CLIENT,
    });
    expect(report.results.every((r) => r.outcome === 'WouldDelete')).toBe(true);
    const mixed = snapshotsOf(report, 'vm-mixed');
    expect(
      Object.values(mixed)
        .map((s) => s.action)
        .sort(),
    ).toEqual(['kept', 'kept', 'wouldDelete', 'wouldDelete', 'wouldDelete']);
    expect(snapshotsOf(report, 'vm-locked')[uuid(11)]).toMatchObject({ action: 'immutable' });
    expect(appliance.counters.pointDeleteCallsByPoint).toEqual({});
    expect(appliance.counters.requestsByRoute['v8.1.deleteRestorePoint'] ?? 0).toBe(0);
    expect(appliance.getVm('vm-mixed')!.restorePoints).toHaveLength(6);
  });

  it('a tighter run override keeps more: keepLatest 3 spares the 10-day snapshot', async () => {
    appliance = await startAppliance({ vms: [FLEET[0]] });
    const report = await runCleanup({
      config: await configFor(appliance, ['vm-mixed'], RETENTION),
      trigger: 'http',
      client: FAST_CLIENT,
      retention: { keepLatest: 3 },
    });
    expect(report.results[0]).toMatchObject({ outcome: 'Succeeded', deletedSnapshots: 2, keptSnapshots: 3 });
    expect(snapshotsOf(report, 'vm-mixed')[uuid(3)]).toMatchObject({
      action: 'kept',
      reason: 'among the 3 newest',
    });
  });

  it('auto detection that lands on v1 skips every VM: retention needs API v8.1', async () => {
    appliance = await startAppliance({ vms: [{ id: 'vm-a' }, { id: 'vm-b' }], versions: ['v1'] });
    const report = await runCleanup({
      config: await configFor(appliance, ['vm-a', 'vm-b'], RETENTION),
      trigger: 'cli',
      client: FAST_CLIENT,
    });
    expect(report.apiVersion).toBe('v1');
    for (const r of report.results)
      expect(r).toMatchObject({ outcome: 'Skipped', skipReason: 'retention needs API v8.1' });
    expect(appliance.counters.deleteCallsByVm).toEqual({});
  });

  it('keeps every VM exactly once and never deletes a point twice under injected faults', async () => {
    const fleet = Array.from({ length: 12 }, (_, i) => ({
      id: `vm-${i}`,
      sessionDurationMs: 20,
      restorePoints: [
        manual(100 + i * 3, HOUR),
        manual(101 + i * 3, 30 * DAY),
        manual(102 + i * 3, 60 * DAY),
      ],
    }));
    appliance = await startAppliance({
      vms: fleet,
      seed: 3,
      faults: [
        { route: '*', kind: 'status', status: 503, probability: 0.1, retryAfter: '0' },
        { route: 'v8.1.getSession', kind: 'status', status: 502, probability: 0.1 },
        { route: 'v8.1.deleteRestorePoint', kind: 'drop', phase: 'after', times: 2 },
      ],
    });
    const ids = fleet.map((vm) => vm.id);
    const report = await runCleanup({
      config: await configFor(appliance, ids, RETENTION),
      trigger: 'timer',
      client: FAST_CLIENT,
    });
    expect(report.results.map((r) => r.vmId).sort()).toEqual([...ids].sort());
    for (const count of Object.values(appliance.counters.pointDeleteCallsByPoint)) expect(count).toBe(1);
    for (const vm of fleet)
      expect(appliance.counters.pointDeleteCallsByPoint[vm.restorePoints[0].id!]).toBeUndefined();
  });
});
