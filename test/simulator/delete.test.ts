import { startSimulator, type SimulatorHandle } from '../../dev/simulator';
import { call, login, waitForEnd, type Reply } from './helpers';

const V1_ID = 'ej43ifg58cgjs8e9cod74ye6cbwm5nttf6ijzk64rshqoip1abqy';
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const TIMESPAN_RE = /^\d{2}:\d{2}:\d{2}\.\d{7}$/;

describe('simulator deletes and sessions', () => {
  let sim: SimulatorHandle;
  let token: string;
  // The appliance's clock is driven by the test, so session ends never race a loaded machine.
  let nowMs: number;
  /** Moves the clock past every short session, then reads the session once. */
  const afterEnd = (url: string): Promise<Reply> => {
    nowMs += 1_000;
    return call(url, { token });
  };
  beforeEach(async () => {
    nowMs = Date.parse('2026-06-01T08:00:00Z');
    sim = await startSimulator({
      now: () => nowMs,
      vms: [
        { id: V1_ID, name: 'web-01', sessionDurationMs: 30 },
        { id: 'vm-warn', name: 'app-02', sessionDurationMs: 20, outcome: 'Warning' },
        { id: 'vm-error', name: 'db-03', sessionDurationMs: 20, outcome: 'Error' },
        { id: 'vm-empty', name: 'idle-04', manualSnapshots: 0 },
        { id: 'vm-slow', name: 'big-05', sessionDurationMs: 60, manualSnapshots: 3 },
      ],
    });
    token = await login(sim);
  });
  afterEach(() => sim.close());

  const manualPoints = (id: string) =>
    sim.getVm(id)!.restorePoints.filter((p) => p.backupDestination === 'ManualSnapshot').length;
  const policyPoints = (id: string) =>
    sim.getVm(id)!.restorePoints.filter((p) => p.backupDestination !== 'ManualSnapshot').length;

  it('v1: 200 with a Running session, numeric id, usn and absolute self link, then Success', async () => {
    const reply = await call(`${sim.url}/api/v1/virtualMachines/${V1_ID}/deleteSnapshots`, {
      method: 'POST',
      token,
    });
    expect(reply.status).toBe(200);
    const session = reply.json;
    expect(session).toMatchObject({
      type: 'SnapshotDeletion',
      status: 'Running',
      usn: 0,
      executionStopTime: null,
      executionDuration: null,
    });
    expect(session.id).toMatch(/^\d+$/);
    expect(session._links.self.href).toBe(`${sim.url}/api/v1/jobSessions/${session.id}`);
    expect(session._links.log.href).toBe(`${sim.url}/api/v1/jobSessions/${session.id}/log`);
    const ended = await afterEnd(session._links.self.href);
    expect(ended.json.status).toBe('Success');
    expect(ended.json.executionDuration).toMatch(TIMESPAN_RE);
    expect(Date.parse(ended.json.executionStopTime)).toBeGreaterThanOrEqual(
      Date.parse(ended.json.executionStartTime),
    );
    const log = await call(session._links.log.href, { token });
    expect(log.json.jobSessionId).toBe(session.id);
    expect(log.json.log).toEqual([
      expect.objectContaining({ status: 'Success', message: expect.stringContaining('web-01') }),
    ]);
    expect(log.json.log[0].resourceHashId).toBeUndefined();
    expect(sim.counters.deleteCallsByVm).toEqual({ [V1_ID]: 1 });
  });

  it('v8.1: 202 with a UUID session that removes only the manual snapshots', async () => {
    expect([manualPoints('vm-slow'), policyPoints('vm-slow')]).toEqual([3, 2]);
    const url = `${sim.url}/api/v8.1/protectedItem/virtualMachines/vm-slow/deleteManualSnapshots`;
    const reply = await call(url, { method: 'POST', token });
    expect(reply.status).toBe(202);
    expect(reply.json.id).toMatch(UUID_RE);
    expect(reply.json).toMatchObject({ type: 'ManualSnapshotDeletion', status: 'Running' });
    expect(reply.json.usn).toBeUndefined();
    expect(reply.json._links.self.href).toBe(`${sim.url}/api/v8.1/jobSessions/${reply.json.id}`);
    expect(manualPoints('vm-slow')).toBe(3);
    const ended = await afterEnd(reply.json._links.self.href);
    expect(ended.json).toMatchObject({
      status: 'Success',
      retentionJobInfo: { deletedRestorePointsCount: 3 },
    });
    expect([manualPoints('vm-slow'), policyPoints('vm-slow')]).toEqual([0, 2]);
    const points = await call(`${sim.url}/api/v8.1/restorePoints/virtualMachines?VirtualMachineId=vm-slow`, {
      token,
    });
    expect(points.json.results.map((p: { backupDestination: string }) => p.backupDestination).sort()).toEqual(
      ['AzureBlob', 'Snapshot'],
    );
    const again = await call(url, { method: 'POST', token });
    expect(again.status).toBe(204);
    expect(sim.counters.deleteCallsByVm['vm-slow']).toBe(2);
  });

  it('v8.1: 204 for a VM without manual snapshots', async () => {
    const url = `${sim.url}/api/v8.1/protectedItem/virtualMachines/vm-empty/deleteManualSnapshots`;
    const reply = await call(url, { method: 'POST', token });
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect(sim.sessions()).toEqual([]);
  });

  it.each([
    ['vm-warn', 'Warning', 0],
    ['vm-error', 'Error', 2],
  ])(
    'session of %s ends %s with an explanatory log and keeps %d manual snapshots',
    async (vmId, outcome, left) => {
      const url = `${sim.url}/api/v8.1/protectedItem/virtualMachines/${vmId}/deleteManualSnapshots`;
      const { json: session } = await call(url, { method: 'POST', token });
      const running = await call(`${session._links.log.href}`, { token });
      expect(running.json.log).toEqual([
        expect.objectContaining({ status: 'Running', resourceHashId: vmId }),
      ]);
      const ended = await afterEnd(session._links.self.href);
      expect(ended.json.status).toBe(outcome);
      expect(ended.json.executionDuration).toMatch(TIMESPAN_RE);
      const log = await call(session._links.log.href, { token });
      expect(log.json.log).toEqual([
        expect.objectContaining({
          status: outcome,
          resourceHashId: vmId,
          message: expect.stringMatching(/warning|Failed/),
        }),
      ]);
      expect(manualPoints(vmId)).toBe(left);
      expect(policyPoints(vmId)).toBe(2);
    },
  );

  it('batch: one session with a log item per VM carrying its own status', async () => {
    const url = `${sim.url}/api/v8.1/protectedItem/virtualMachines/deleteManualSnapshots`;
    const ids = [V1_ID, 'vm-warn', 'vm-error', 'vm-empty'];
    const reply = await call(url, { method: 'POST', token, body: JSON.stringify({ ids }) });
    expect(reply.status).toBe(202);
    const ended = await afterEnd(reply.json._links.self.href);
    expect(ended.json.status).toBe('Error');
    const log = await call(reply.json._links.log.href, { token });
    const byVm = Object.fromEntries(
      log.json.log.map((i: { resourceHashId: string; status: string }) => [i.resourceHashId, i.status]),
    );
    expect(byVm).toEqual({
      [V1_ID]: 'Success',
      'vm-warn': 'Warning',
      'vm-error': 'Error',
      'vm-empty': 'Success',
    });
    expect(sim.sessions()).toEqual([
      {
        id: reply.json.id,
        vmIds: ids,
        status: 'Error',
        type: 'ManualSnapshotDeletion',
        restorePointIds: expect.any(Array),
      },
    ]);
    expect(sim.counters.deleteCallsByVm).toEqual({ [V1_ID]: 1, 'vm-warn': 1, 'vm-error': 1, 'vm-empty': 1 });
    expect([manualPoints(V1_ID), manualPoints('vm-warn'), manualPoints('vm-error')]).toEqual([0, 0, 2]);
  });

  it('batch: 204 when none has manual snapshots, 404 naming an unknown id, 400 for other fields', async () => {
    const url = `${sim.url}/api/v8.1/protectedItem/virtualMachines/deleteManualSnapshots`;
    expect((await call(url, { method: 'POST', token, body: '{"ids":["vm-empty"]}' })).status).toBe(204);
    const unknown = await call(url, {
      method: 'POST',
      token,
      body: JSON.stringify({ ids: [V1_ID, 'ghost-vm'] }),
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json.detail).toContain('ghost-vm');
    expect(sim.sessions()).toEqual([]);
    const extra = await call(url, {
      method: 'POST',
      token,
      body: JSON.stringify({ ids: [V1_ID], force: true }),
    });
    expect(extra.status).toBe(400);
    expect(extra.json.errors.force).toBeDefined();
    for (const body of ['{"ids":[]}', 'not json', '[]', '{"ids":[1]}']) {
      expect((await call(url, { method: 'POST', token, body })).status).toBe(400);
    }
    expect(sim.counters.deleteCallsByVm).toEqual({ 'vm-empty': 1 });
  });

  it('answers an unknown VM with 404 problem+json on both generations', async () => {
    for (const url of [
      `${sim.url}/api/v1/virtualMachines/ghost/deleteSnapshots`,
      `${sim.url}/api/v8.1/protectedItem/virtualMachines/ghost/deleteManualSnapshots`,
    ]) {
      const reply = await call(url, { method: 'POST', token });
      expect(reply.status).toBe(404);
      expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(reply.json).toMatchObject({
        title: 'Not Found',
        status: 404,
        detail: expect.stringContaining('ghost'),
      });
      expect(typeof reply.json.traceId).toBe('string');
    }
    expect((await call(`${sim.url}/api/v8.1/virtualMachines/ghost`, { token })).status).toBe(404);
    expect((await call(`${sim.url}/api/v1/virtualMachines/ghost`, { token })).status).toBe(404);
    expect(
      (await call(`${sim.url}/api/v8.1/jobSessions/00000000-0000-4000-8000-000000000000`, { token })).status,
    ).toBe(404);
    expect(sim.counters.deleteCallsByVm).toEqual({});
  });

  it('keeps session ids apart per generation', async () => {
    const { json } = await call(`${sim.url}/api/v1/virtualMachines/${V1_ID}/deleteSnapshots`, {
      method: 'POST',
      token,
    });
    expect((await call(`${sim.url}/api/v8.1/jobSessions/${json.id}`, { token })).status).toBe(404);
    expect((await call(`${sim.url}/api/v1/jobSessions/${json.id}/log`, { token })).status).toBe(200);
  });

  it('reports sessions that are still Running through sessions()', async () => {
    sim.setVm({ id: 'vm-long', sessionDurationMs: 60_000 });
    await call(`${sim.url}/api/v8.1/protectedItem/virtualMachines/vm-long/deleteManualSnapshots`, {
      method: 'POST',
      token,
    });
    expect(sim.sessions()).toEqual([expect.objectContaining({ vmIds: ['vm-long'], status: 'Running' })]);
  });

  it('keeps a stuck VM Running and its snapshots in place', async () => {
    sim.setVm({ id: 'vm-stuck', sessionDurationMs: 1, stuck: true });
    const { json } = await call(
      `${sim.url}/api/v8.1/protectedItem/virtualMachines/vm-stuck/deleteManualSnapshots`,
      {
        method: 'POST',
        token,
      },
    );
    nowMs += 60_000;
    const reply = await call(json._links.self.href, { token });
    expect(reply.json).toMatchObject({ status: 'Running', executionStopTime: null });
    expect(manualPoints('vm-stuck')).toBe(2);
  });
});

describe('simulator session draws', () => {
  it('draws durations and outcomes from the seed, reproducibly', async () => {
    const run = async (): Promise<string[]> => {
      const sim = await startSimulator({
        fleet: { count: 12, idStyle: 'uuid' },
        seed: 7,
        sessionDurationMs: { min: 5, max: 15 },
        outcomes: { warning: 0.3, error: 0.3 },
      });
      try {
        const token = await login(sim);
        const vms = await call(`${sim.url}/api/v8.1/virtualMachines`, { token });
        const ids: string[] = vms.json.results.map((vm: { id: string }) => vm.id);
        const url = `${sim.url}/api/v8.1/protectedItem/virtualMachines/deleteManualSnapshots`;
        const { json } = await call(url, { method: 'POST', token, body: JSON.stringify({ ids }) });
        await waitForEnd(json._links.self.href, token);
        const log = await call(json._links.log.href, { token });
        return log.json.log.map((i: { status: string }) => i.status);
      } finally {
        await sim.close();
      }
    };
    const first = await run();
    expect(new Set(first)).toEqual(new Set(['Success', 'Warning', 'Error']));
    expect(await run()).toEqual(first);
  });
});
