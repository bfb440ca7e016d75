import http from 'node:http';
import { startSimulator, type SimulatorHandle } from '../../dev/simulator';
import { call, login, sleep, waitForEnd } from './helpers';

const DELETE_ROUTE = 'v8.1.deleteManualSnapshots';

describe('simulator fault injection', () => {
  let sim: SimulatorHandle;
  let token: string;
  beforeEach(async () => {
    sim = await startSimulator({
      vms: [
        { id: 'vm-a', sessionDurationMs: 20 },
        { id: 'vm-b', sessionDurationMs: 20 },
      ],
      seed: 3,
    });
    token = await login(sim);
    sim.resetCounters();
  });
  afterEach(() => sim.close());

  const deleteUrl = (id: string) =>
    `${sim.url}/api/v8.1/protectedItem/virtualMachines/${id}/deleteManualSnapshots`;
  const del = (id: string, signal?: AbortSignal) => call(deleteUrl(id), { method: 'POST', token, signal });

  it.each([
    [429, '1'],
    [429, 'Wed, 21 Oct 2037 07:28:00 GMT'],
    [429, undefined],
    [500, undefined],
    [502, undefined],
    [503, '2'],
  ] as const)('answers %d (Retry-After %s) without processing the request', async (status, retryAfter) => {
    sim.addFault({ route: DELETE_ROUTE, kind: 'status', status, retryAfter, times: 1 });
    const faulted = await del('vm-a');
    expect(faulted.status).toBe(status);
    expect(faulted.headers.get('retry-after')).toBe(retryAfter ?? null);
    expect(faulted.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(faulted.json.status).toBe(status);
    expect(sim.counters.deleteCallsByVm).toEqual({});
    expect(sim.sessions()).toEqual([]);
    const retried = await del('vm-a');
    expect(retried.status).toBe(202);
    expect(sim.counters.deleteCallsByVm).toEqual({ 'vm-a': 1 });
  });

  it('answers injected statuses before checking the token', async () => {
    sim.addFault({ route: '*', kind: 'status', status: 503 });
    expect((await call(`${sim.url}/api/v8.1/jobSessions`)).status).toBe(503);
  });

  it('adds latency before handling', async () => {
    sim.addFault({ route: 'v8.1.about', kind: 'latency', latencyMs: 300 });
    const order: string[] = [];
    const slow = call(`${sim.url}/api/v8.1/system/about`, { token }).then((r) =>
      order.push(`about ${r.status}`),
    );
    await sleep(5);
    const fast = call(`${sim.url}/api/v8.1/virtualMachines`, { token }).then((r) =>
      order.push(`vms ${r.status}`),
    );
    await Promise.all([slow, fast]);
    expect(order).toEqual(['vms 200', 'about 200']);
  });

  it('drops the connection before processing', async () => {
    sim.addFault({ route: DELETE_ROUTE, kind: 'drop', times: 1 });
    await expect(del('vm-a')).rejects.toThrow();
    expect(sim.counters.deleteCallsByVm).toEqual({});
    expect(sim.sessions()).toEqual([]);
    expect(sim.counters.requestsByRoute[DELETE_ROUTE]).toBe(1);
  });

  it('drops the connection after processing (the session exists)', async () => {
    sim.addFault({ route: DELETE_ROUTE, kind: 'drop', phase: 'after', times: 1 });
    await expect(del('vm-a')).rejects.toThrow();
    expect(sim.counters.deleteCallsByVm).toEqual({ 'vm-a': 1 });
    expect(sim.sessions()).toEqual([expect.objectContaining({ vmIds: ['vm-a'] })]);
  });

  it('replies slowly after processing, past a client timeout', async () => {
    sim.addFault({ route: DELETE_ROUTE, kind: 'slow', delayMs: 5_000, times: 1 });
    await expect(del('vm-a', AbortSignal.timeout(100))).rejects.toThrow();
    expect(sim.counters.deleteCallsByVm).toEqual({ 'vm-a': 1 });
    expect(sim.sessions()).toHaveLength(1);
  });

  it('still answers correctly after a short slow delay', async () => {
    sim.addFault({ route: DELETE_ROUTE, kind: 'slow', delayMs: 30 });
    const reply = await del('vm-a');
    expect(reply.status).toBe(202);
    expect(reply.json.status).toBe('Running');
  });

  it('answers malformed JSON with a JSON content type', async () => {
    sim.addFault({ route: 'v8.1.listVms', kind: 'malformedJson', times: 1 });
    const reply = await call(`${sim.url}/api/v8.1/virtualMachines`, { token });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
    expect(() => JSON.parse(reply.text)).toThrow(SyntaxError);
    expect((await call(`${sim.url}/api/v8.1/virtualMachines`, { token })).json.totalCount).toBe(2);
  });

  it('sends malformed JSON on a delete that was processed', async () => {
    sim.addFault({ route: DELETE_ROUTE, kind: 'malformedJson', times: 1 });
    const reply = await del('vm-a');
    expect(reply.status).toBe(202);
    expect(reply.json).toBeUndefined();
    expect(sim.sessions()).toHaveLength(1);
  });

  it('keeps the session of a stuck fault Running', async () => {
    sim.addFault({ route: DELETE_ROUTE, kind: 'stuck', vmId: 'vm-b' });
    const stuck = await del('vm-b');
    const normal = await del('vm-a');
    expect((await waitForEnd(normal.json._links.self.href, token)).json.status).toBe('Success');
    expect((await call(stuck.json._links.self.href, { token })).json.status).toBe('Running');
  });

  it('points _links at a foreign origin, which never sees our Authorization header', async () => {
    const foreign = await startSimulator({ fleet: { count: 1 } });
    try {
      sim.addFault({ route: DELETE_ROUTE, kind: 'foreignSelfLink', foreignOrigin: foreign.url, times: 1 });
      const reply = await del('vm-a');
      expect(reply.json._links.self.href).toBe(`${foreign.url}/api/v8.1/jobSessions/${reply.json.id}`);
      expect(reply.json._links.log.href.startsWith(foreign.url)).toBe(true);
      const session = await call(`${sim.url}/api/v8.1/jobSessions/${reply.json.id}`, { token });
      expect(session.json._links.self.href.startsWith(sim.url)).toBe(true);
      expect(foreign.counters.authorizationByOrigin).toEqual({});
      expect(sim.counters.authorizationByOrigin).toEqual({ [sim.url]: 2 });
    } finally {
      await foreign.close();
    }
  });

  it('limits a rule to a VM and to N applications', async () => {
    sim.addFault({ route: '*', kind: 'status', status: 500, vmId: 'vm-b', times: 2 });
    expect((await del('vm-a')).status).toBe(202);
    expect((await del('vm-b')).status).toBe(500);
    const batch = await call(`${sim.url}/api/v8.1/protectedItem/virtualMachines/deleteManualSnapshots`, {
      method: 'POST',
      token,
      body: JSON.stringify({ ids: ['vm-b'] }),
    });
    expect(batch.status).toBe(500);
    expect((await del('vm-b')).status).toBe(202);
  });

  it('applies a rule with the seeded probability, reproducibly', async () => {
    const pattern = async (): Promise<number[]> => {
      const s = await startSimulator({ fleet: { count: 1 }, seed: 11 });
      try {
        s.addFault({ route: 'v8.1.serviceIsUp', kind: 'status', status: 503, probability: 0.5 });
        const statuses: number[] = [];
        for (let i = 0; i < 30; i++)
          statuses.push((await call(`${s.url}/api/v8.1/system/serviceIsUp`)).status);
        return statuses;
      } finally {
        await s.close();
      }
    };
    const first = await pattern();
    expect(new Set(first)).toEqual(new Set([200, 503]));
    expect(await pattern()).toEqual(first);
  });

  it('takes fault rules from the options and clears them', async () => {
    const s = await startSimulator({
      fleet: { count: 1 },
      faults: [{ route: 'token', kind: 'status', status: 502 }],
    });
    try {
      const form = 'grant_type=Password&username=veeam-admin&password=veeam-password';
      const init = { method: 'POST', body: form, contentType: 'application/x-www-form-urlencoded' };
      expect((await call(`${s.url}/api/oauth2/token`, init)).status).toBe(502);
      s.clearFaults();
      expect((await call(`${s.url}/api/oauth2/token`, init)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('adds the global latencyMs option to every request', async () => {
    const s = await startSimulator({ fleet: { count: 1 }, latencyMs: 5_000 });
    try {
      await expect(
        call(`${s.url}/api/v8.1/system/serviceIsUp`, { signal: AbortSignal.timeout(100) }),
      ).rejects.toThrow();
    } finally {
      await s.close();
    }
  });
});

describe('simulator counters', () => {
  it('counts requests per route, deletes per VM and Authorization headers per addressed origin', async () => {
    const sim = await startSimulator({ vms: [{ id: 'vm-a' }] });
    try {
      const counters = sim.counters;
      const token = await login(sim);
      await call(`${sim.url}/api/v8.1/virtualMachines`, { token });
      await call(`${sim.url}/api/v8.1/virtualMachines`, { token });
      await call(`${sim.url}/api/v1/virtualMachines/vm-a/deleteSnapshots`, { method: 'POST', token });
      await new Promise<void>((resolve, reject) => {
        const port = new URL(sim.url).port;
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: '/api/v8.1/system/about',
            headers: { host: 'appliance.example:8443', authorization: `Bearer ${token}` },
          },
          (res) => res.resume().on('end', resolve),
        );
        req.on('error', reject).end();
      });
      expect(counters.requestsByRoute).toEqual({
        token: 1,
        'v8.1.listVms': 2,
        'v1.deleteSnapshots': 1,
        'v8.1.about': 1,
      });
      expect(counters.deleteCallsByVm).toEqual({ 'vm-a': 1 });
      expect(counters.authorizationByOrigin).toEqual({ [sim.url]: 3, 'http://appliance.example:8443': 1 });
      expect(counters.tokensIssued).toEqual({ password: 1, refresh: 0 });
      sim.resetCounters();
      expect(sim.counters).toBe(counters);
      expect(counters).toEqual({
        requestsByRoute: {},
        deleteCallsByVm: {},
        pointDeleteCallsByVm: {},
        pointDeleteCallsByPoint: {},
        pointDeleteAnswers: { accepted: 0, notFound: 0, locked: 0 },
        authorizationByOrigin: {},
        tokensIssued: { password: 0, refresh: 0 },
      });
    } finally {
      await sim.close();
    }
  });
});
