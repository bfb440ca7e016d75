import { startSimulator, type SimulatorHandle } from '../../dev/simulator';
import { call, login, type Reply } from './helpers';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('simulator restore points and per-point deletes', () => {
  let sim: SimulatorHandle;
  let token: string;
  let nowMs: number;
  const START = Date.parse('2026-06-01T08:00:00Z');
  beforeEach(async () => {
    nowMs = START;
    sim = await startSimulator({
      now: () => nowMs,
      // The test moves the clock by days; the token must outlive that.
      accessTokenLifetimeSec: 365 * 86_400,
      vms: [
        {
          id: 'vm-r',
          name: 'retained',
          sessionDurationMs: 50,
          restorePoints: [
            { id: '00000000-0000-4000-8000-000000000001', ageMs: HOUR },
            { id: '00000000-0000-4000-8000-000000000002', ageMs: 10 * DAY },
            { id: '00000000-0000-4000-8000-000000000003', ageMs: 90 * DAY, immutableForMs: 5 * DAY },
            { id: '00000000-0000-4000-8000-000000000004', ageMs: 90 * DAY, immutableForMs: -DAY },
            { id: '00000000-0000-4000-8000-000000000005', ageMs: 40 * DAY, locked: true },
            { id: '00000000-0000-4000-8000-000000000006', backupDestination: 'Snapshot', ageMs: DAY },
            { id: '00000000-0000-4000-8000-000000000007', backupDestination: 'AzureBlob', ageMs: DAY },
          ],
        },
        { id: 'vm-err', sessionDurationMs: 50, outcome: 'Error', manualSnapshots: 1, policySnapshots: 0 },
      ],
    });
    token = await login(sim);
  });
  afterEach(() => sim.close());

  const point = (n: number) => `00000000-0000-4000-8000-00000000000${n}`;
  const pointUrl = (id: string) => `${sim.url}/api/v8.1/restorePoints/virtualMachines/${id}`;
  const del = (id: string): Promise<Reply> => call(pointUrl(id), { method: 'DELETE', token });
  const remaining = (vmId: string) => sim.getVm(vmId)!.restorePoints.map((p) => p.id);
  const list = (query: string) =>
    call(`${sim.url}/api/v8.1/restorePoints/virtualMachines?${query}`, { token });

  it('lists points with pointInTime relative to the clock, immutableTill and backup destinations', async () => {
    const reply = await list('VirtualMachineId=vm-r');
    expect(reply.json).toMatchObject({ offset: 0, limit: 100, totalCount: 7 });
    const byId = Object.fromEntries(reply.json.results.map((p: { id: string }) => [p.id, p]));
    expect(byId[point(1)]).toMatchObject({
      pointInTime: new Date(START - HOUR).toISOString().replace('Z', '0000Z'),
      backupDestination: 'ManualSnapshot',
      immutableTill: null,
      regionId: expect.any(String),
    });
    expect(Date.parse(byId[point(3)].immutableTill)).toBe(START + 5 * DAY);
    expect(Date.parse(byId[point(4)].immutableTill)).toBe(START - DAY);
    expect(byId[point(6)].backupDestination).toBe('Snapshot');
    expect(byId[point(7)].backupDestination).toBe('AzureBlob');
    expect(sim.getVm('vm-r')!.restorePoints.find((p) => p.id === point(5))).toMatchObject({ locked: true });
  });

  it('pages the list with Offset/Limit (default 100) and honours maxPageSize', async () => {
    sim.setVm({ id: 'vm-many', manualSnapshots: 130, policySnapshots: 0 });
    const first = await list('VirtualMachineId=vm-many');
    expect(first.json).toMatchObject({ offset: 0, limit: 100, totalCount: 130 });
    expect(first.json.results).toHaveLength(100);
    const second = await list('VirtualMachineId=vm-many&Offset=100&Limit=100');
    expect(second.json.results).toHaveLength(30);
    const ids = new Set([...first.json.results, ...second.json.results].map((p: { id: string }) => p.id));
    expect(ids.size).toBe(130);
    for (const id of ids) expect(id).toMatch(UUID_RE);
    expect((await list('VirtualMachineId=vm-many&Limit=7&Offset=126')).json.results).toHaveLength(4);
  });

  it('DELETE answers 202 with a session whose log names the VM, and the point goes when it ends', async () => {
    const reply = await del(point(2));
    expect(reply.status).toBe(202);
    expect(reply.json).toMatchObject({ type: 'ManualSnapshotDeletion', status: 'Running' });
    expect(reply.json.id).toMatch(UUID_RE);
    expect(remaining('vm-r')).toContain(point(2));
    nowMs += 50;
    const ended = await call(reply.json._links.self.href, { token });
    expect(ended.json).toMatchObject({
      status: 'Success',
      retentionJobInfo: { deletedRestorePointsCount: 1 },
    });
    const log = await call(reply.json._links.log.href, { token });
    expect(log.json.log).toEqual([
      expect.objectContaining({
        status: 'Success',
        resourceHashId: 'vm-r',
        message: expect.stringContaining(point(2)),
      }),
    ]);
    expect(remaining('vm-r')).not.toContain(point(2));
    expect(remaining('vm-r')).toHaveLength(6);
    expect((await call(pointUrl(point(2)), { token })).status).toBe(404);
    expect(sim.sessions()).toEqual([
      expect.objectContaining({ vmIds: ['vm-r'], restorePointIds: [point(2)], status: 'Success' }),
    ]);
    const again = await del(point(2));
    expect(again.status).toBe(404);
    expect(again.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(sim.counters.pointDeleteCallsByPoint).toEqual({ [point(2)]: 2 });
    expect(sim.counters.pointDeleteCallsByVm).toEqual({ 'vm-r': 2 });
    expect(sim.counters.pointDeleteAnswers).toEqual({ accepted: 1, notFound: 1, locked: 0 });
    expect(sim.counters.deleteCallsByVm).toEqual({});
  });

  it('an Error session keeps the point', async () => {
    const [errPoint] = remaining('vm-err');
    const reply = await del(errPoint);
    nowMs += 50;
    expect((await call(reply.json._links.self.href, { token })).json.status).toBe('Error');
    expect(remaining('vm-err')).toEqual([errPoint]);
  });

  it('DELETE answers 423 for locked and still-immutable points, and deletes one whose immutability passed', async () => {
    for (const id of [point(3), point(5)]) {
      const reply = await del(id);
      expect(reply.status).toBe(423);
      expect(reply.json).toMatchObject({
        status: 423,
        title: 'Locked',
        instance: `/api/v8.1/restorePoints/virtualMachines/${id}`,
      });
    }
    expect((await del(point(4))).status).toBe(202);
    expect(sim.counters.pointDeleteAnswers).toEqual({ accepted: 1, notFound: 0, locked: 2 });
    nowMs += 5 * DAY;
    expect((await del(point(3))).status).toBe(202);
    expect(sim.sessions()).toHaveLength(2);
  });

  it('DELETE answers 404 for an unknown point, counted per point only', async () => {
    const ghost = '11111111-1111-4111-8111-111111111111';
    expect((await del(ghost)).status).toBe(404);
    expect(sim.counters.pointDeleteCallsByPoint).toEqual({ [ghost]: 1 });
    expect(sim.counters.pointDeleteCallsByVm).toEqual({});
  });

  it('a vanish fault removes the point between list and delete, so DELETE answers 404', async () => {
    sim.addFault({ route: 'v8.1.deleteRestorePoint', kind: 'vanish', restorePointId: point(2), times: 1 });
    expect((await del(point(1))).status).toBe(202);
    const vanished = await del(point(2));
    expect(vanished.status).toBe(404);
    expect(remaining('vm-r')).not.toContain(point(2));
    expect(sim.counters.pointDeleteCallsByVm).toEqual({ 'vm-r': 2 });
    expect(sim.sessions()).toHaveLength(1);
  });

  it('a stuck fault keeps a per-point session Running', async () => {
    sim.addFault({ route: 'v8.1.deleteRestorePoint', kind: 'stuck', vmId: 'vm-r' });
    const reply = await del(point(1));
    nowMs += DAY;
    expect((await call(reply.json._links.self.href, { token })).json.status).toBe('Running');
    expect(remaining('vm-r')).toContain(point(1));
  });

  it('bulk deleteManualSnapshots removes every manual point, immutable and locked ones too', async () => {
    const url = `${sim.url}/api/v8.1/protectedItem/virtualMachines/vm-r/deleteManualSnapshots`;
    expect((await call(url, { method: 'POST', token })).status).toBe(202);
    nowMs += 50;
    expect(remaining('vm-r')).toEqual([point(6), point(7)]);
  });

  it('addRestorePoint adds a point "taken a minute ago" that the list and DELETE see', async () => {
    const added = sim.addRestorePoint('vm-r', { ageMs: 60_000 });
    expect(added).toMatchObject({ backupDestination: 'ManualSnapshot', locked: false, immutableTill: null });
    expect(Date.parse(added.pointInTime)).toBe(START - 60_000);
    expect((await list('VirtualMachineId=vm-r')).json.totalCount).toBe(8);
    expect((await call(pointUrl(added.id), { token })).json).toMatchObject({
      id: added.id,
      vmName: 'retained',
    });
    expect((await del(added.id)).status).toBe(202);
    expect(() => sim.addRestorePoint('ghost')).toThrow(/ghost/);
  });
});

describe('simulator point mix', () => {
  it('spreads seeded manual points over hours, days and months, with some immutable and locked', async () => {
    const nowMs = Date.parse('2026-06-01T08:00:00Z');
    const mix = async () => {
      const sim = await startSimulator({
        now: () => nowMs,
        fleet: { count: 60 },
        seed: 11,
        pointMix: { manualPerVm: { min: 1, max: 6 }, immutableRate: 0.2, lockedRate: 0.1 },
      });
      try {
        return sim.vmIds().map((id) => sim.getVm(id)!.restorePoints);
      } finally {
        await sim.close();
      }
    };
    const fleet = await mix();
    const manual = fleet.flat().filter((p) => p.backupDestination === 'ManualSnapshot');
    const ages = manual.map((p) => nowMs - Date.parse(p.pointInTime));
    expect(ages.some((a) => a < DAY)).toBe(true);
    expect(ages.some((a) => a >= DAY && a < 30 * DAY)).toBe(true);
    expect(ages.some((a) => a >= 30 * DAY)).toBe(true);
    expect(manual.some((p) => p.immutableTill !== null && Date.parse(p.immutableTill) > nowMs)).toBe(true);
    expect(manual.some((p) => p.immutableTill !== null && Date.parse(p.immutableTill) < nowMs)).toBe(true);
    expect(manual.some((p) => p.locked)).toBe(true);
    for (const points of fleet) {
      const count = points.filter((p) => p.backupDestination === 'ManualSnapshot').length;
      expect(count).toBeGreaterThanOrEqual(1);
      expect(count).toBeLessThanOrEqual(6);
      expect(points.filter((p) => p.backupDestination !== 'ManualSnapshot')).toHaveLength(2);
    }
    expect(await mix()).toEqual(fleet);
  });
});
