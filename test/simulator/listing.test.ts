import { startSimulator, type SimulatorHandle } from '../../dev/simulator';
import { call, login, waitForEnd } from './helpers';

describe('simulator listings and paging', () => {
  let sim: SimulatorHandle;
  let token: string;
  beforeAll(async () => {
    sim = await startSimulator({ fleet: { count: 25 }, maxPageSize: 10, sessionDurationMs: 10 });
    token = await login(sim);
  });
  afterAll(() => sim.close());

  const get = (path: string) => call(`${sim.url}${path}`, { token });

  it('pages v8.1 VMs with Offset/Limit and echoes the window', async () => {
    const first = await get('/api/v8.1/virtualMachines?Offset=0&Limit=4');
    expect(first.json).toMatchObject({ offset: 0, limit: 4, totalCount: 25 });
    expect(first.json.results).toHaveLength(4);
    const last = await get('/api/v8.1/virtualMachines?Offset=24&Limit=4');
    expect(last.json.results).toHaveLength(1);
    const seen = new Set<string>();
    for (let offset = 0; offset < 25; offset += 7) {
      const page = await get(`/api/v8.1/virtualMachines?Offset=${offset}&Limit=7`);
      page.json.results.forEach((vm: { id: string }) => seen.add(vm.id));
    }
    expect(seen.size).toBe(25);
    for (const id of seen) expect(id).toMatch(/^[13-9a-km-uw-z]{52}$/);
  });

  it('caps Limit at maxPageSize (also for -1) and rejects bad values with 400', async () => {
    expect((await get('/api/v8.1/virtualMachines?Limit=-1')).json).toMatchObject({
      limit: 10,
      totalCount: 25,
    });
    expect((await get('/api/v8.1/virtualMachines?Limit=500')).json.results).toHaveLength(10);
    const bad = await get('/api/v8.1/virtualMachines?Offset=-3&Limit=x');
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json.errors).sort()).toEqual(['Limit', 'Offset']);
  });

  it('accepts v1 lowercase paging names but treats v8.1 names case-sensitively', async () => {
    expect((await get('/api/v1/virtualMachines?offset=20&limit=3')).json).toMatchObject({
      offset: 20,
      limit: 3,
    });
    expect((await get('/api/v8.1/virtualMachines?offset=20&limit=3')).json).toMatchObject({
      offset: 0,
      limit: 10,
    });
  });

  it('returns one VM per generation with the generation-specific fields', async () => {
    const { json: page } = await get('/api/v8.1/virtualMachines?Limit=1');
    const id = page.results[0].id;
    const v8 = await get(`/api/v8.1/virtualMachines/${id}`);
    expect(v8.json).toMatchObject({ id, name: 'vm-01', subscriptionId: expect.any(String) });
    const v1 = await get(`/api/v1/virtualMachines/${id}`);
    expect(v1.json).toMatchObject({ id, name: 'vm-01' });
    expect(v1.json.subscriptionId).toBeUndefined();
  });

  it('filters VMs by SearchPattern and BackupDestination', async () => {
    expect((await get('/api/v8.1/virtualMachines?SearchPattern=VM-1')).json.totalCount).toBe(10);
    sim.setVm({ id: 'vm-no-manual', name: 'plain', manualSnapshots: 0 });
    const manual = await get('/api/v8.1/virtualMachines?BackupDestination=ManualSnapshot&Limit=-1');
    expect(manual.json.totalCount).toBe(25);
    expect((await get('/api/v8.1/virtualMachines?BackupDestination=Tape')).status).toBe(400);
  });

  it('lists restore points of a VM with their backup destinations', async () => {
    sim.setVm({ id: 'vm-points', name: 'points', manualSnapshots: 3, policySnapshots: 4 });
    const reply = await get('/api/v8.1/restorePoints/virtualMachines?VirtualMachineId=vm-points');
    expect(reply.json.totalCount).toBe(7);
    const count = (d: string) =>
      reply.json.results.filter((p: { backupDestination: string }) => p.backupDestination === d).length;
    expect([count('ManualSnapshot'), count('Snapshot'), count('AzureBlob')]).toEqual([3, 2, 2]);
    expect(reply.json.results[0]).toMatchObject({
      vmName: 'points',
      resourceHashId: 'vm-points',
      regionName: expect.any(String),
    });
    expect((await get('/api/v8.1/restorePoints/virtualMachines?VirtualMachineId=ghost')).status).toBe(404);
  });

  it('pages and filters v8.1 sessions by Status, Types and ResourceId', async () => {
    const { json: vms } = await get('/api/v8.1/virtualMachines?Limit=5');
    const ids: string[] = vms.results.map((vm: { id: string }) => vm.id);
    sim.setVm({ id: 'vm-running', sessionDurationMs: 60_000 });
    const sessions = [];
    for (const id of [...ids, 'vm-running']) {
      const url = `${sim.url}/api/v8.1/protectedItem/virtualMachines/${id}/deleteManualSnapshots`;
      sessions.push((await call(url, { method: 'POST', token })).json);
    }
    await call(`${sim.url}/api/v1/virtualMachines/${ids[0]}/deleteSnapshots`, { method: 'POST', token });
    for (const s of sessions.slice(0, 5)) await waitForEnd(s._links.self.href, token);

    const all = await get('/api/v8.1/jobSessions?Limit=4');
    expect(all.json).toMatchObject({ offset: 0, limit: 4, totalCount: 6 });
    expect(all.json.results).toHaveLength(4);
    const rest = await get('/api/v8.1/jobSessions?Offset=4&Limit=4');
    expect(rest.json.results.map((s: { id: string }) => s.id)).toEqual(sessions.slice(4).map((s) => s.id));

    const running = await get('/api/v8.1/jobSessions?Status=Running&Types=ManualSnapshotDeletion');
    expect(running.json.results.map((s: { id: string }) => s.id)).toEqual([sessions[5].id]);
    const done = await get('/api/v8.1/jobSessions?Status=Success&Status=Warning');
    expect(done.json.totalCount).toBe(5);
    const byVm = await get(`/api/v8.1/jobSessions?ResourceId=${ids[2]}`);
    expect(byVm.json.results.map((s: { id: string }) => s.id)).toEqual([sessions[2].id]);
    expect((await get('/api/v8.1/jobSessions?Types=SnapshotDeletion')).json.totalCount).toBe(0);
    expect((await get('/api/v8.1/jobSessions?FromUtc=2999-01-01T00:00:00Z')).json.totalCount).toBe(0);
    expect((await get('/api/v8.1/jobSessions?Status=Finished')).status).toBe(400);
    expect((await get('/api/v8.1/jobSessions?FromUtc=yesterday')).status).toBe(400);
  });

  it('answers the probes', async () => {
    const up = await call(`${sim.url}/api/v8.1/system/serviceIsUp`);
    expect([up.status, up.text]).toEqual([200, '']);
    expect((await get('/api/v8.1/system/about')).json).toMatchObject({
      serverVersion: expect.stringMatching(/^8\.1/),
    });
  });

  it('answers unknown routes and versions with 404 and counts them as unknown', async () => {
    sim.resetCounters();
    for (const path of ['/api/v2/virtualMachines', '/api/v8.1/nothing', '/', '/api/v8/system/about']) {
      const reply = await get(path);
      expect(reply.status).toBe(404);
    }
    expect((await call(`${sim.url}/api/v8.1/virtualMachines`, { method: 'PUT', token })).status).toBe(404);
    expect(sim.counters.requestsByRoute).toEqual({ unknown: 5 });
  });
});

describe('simulator versions option', () => {
  it('serves only v1 on a v1-only appliance', async () => {
    const sim = await startSimulator({ fleet: { count: 2 }, versions: ['v1'] });
    try {
      const token = await login(sim);
      expect((await call(`${sim.url}/api/v1/virtualMachines`, { token })).status).toBe(200);
      expect((await call(`${sim.url}/api/v8.1/system/about`, { token })).status).toBe(404);
      expect((await call(`${sim.url}/api/v8.1/system/serviceIsUp`)).status).toBe(404);
      expect((await call(`${sim.url}/api/v8.1/virtualMachines`, { token })).status).toBe(404);
    } finally {
      await sim.close();
    }
  });

  it('serves only v8.1 on a current appliance configured without v1', async () => {
    const sim = await startSimulator({ fleet: { count: 2 }, versions: ['v8.1'] });
    try {
      const token = await login(sim);
      expect((await call(`${sim.url}/api/v1/virtualMachines`, { token })).status).toBe(404);
      expect((await call(`${sim.url}/api/v8.1/virtualMachines`, { token })).status).toBe(200);
    } finally {
      await sim.close();
    }
  });
});
