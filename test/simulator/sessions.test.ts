import { PassThrough } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startSimulator, type SimulatorHandle } from '../../dev/simulator';
import { createFaultBook } from '../../dev/simulator/faults';
import { createRandom } from '../../dev/simulator/random';
import { createPipeline, isLoopbackAddress } from '../../dev/simulator/server';
import { createTokenStore } from '../../dev/simulator/auth';
import { call, login } from './helpers';

const ids = (reply: { json: { results: Array<{ id: string }> } }) => reply.json.results.map((s) => s.id);

describe('simulator job-session listing for "one listing per run"', () => {
  let sim: SimulatorHandle;
  let token: string;
  let nowMs: number;
  beforeAll(async () => {
    nowMs = Date.parse('2026-06-01T08:00:00Z');
    sim = await startSimulator({
      now: () => nowMs,
      vms: [
        { id: 'vm-a', sessionDurationMs: 100 },
        { id: 'vm-b', sessionDurationMs: 10_000 },
        {
          id: 'vm-c',
          sessionDurationMs: 100,
          restorePoints: [{ id: '00000000-0000-4000-8000-0000000000c1' }],
        },
      ],
    });
    token = await login(sim);
  });
  afterAll(() => sim.close());

  const get = (query: string) => call(`${sim.url}/api/v8.1/jobSessions?${query}`, { token });

  it('filters by Types (repeatable), Status, FromUtc and ResourceId, and pages', async () => {
    const post = (p: string) => call(`${sim.url}/api/v8.1${p}`, { method: 'POST', token });
    const backup = sim.addSession({ type: 'PolicyBackup', vmIds: ['vm-a'], durationMs: 60_000 });
    const early = (await post('/protectedItem/virtualMachines/vm-a/deleteManualSnapshots')).json;
    nowMs += 1_000;
    const fromUtc = new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z');
    const running = (await post('/protectedItem/virtualMachines/vm-b/deleteManualSnapshots')).json;
    const point = (
      await call(`${sim.url}/api/v8.1/restorePoints/virtualMachines/00000000-0000-4000-8000-0000000000c1`, {
        method: 'DELETE',
        token,
      })
    ).json;
    nowMs += 500;

    expect(ids(await get(''))).toEqual([backup.id, early.id, running.id, point.id]);
    const deletions = 'Types=ManualSnapshotDeletion&Types=SnapshotDeletion';
    expect(ids(await get(deletions))).toEqual([early.id, running.id, point.id]);
    expect(ids(await get('Types=ManualSnapshotDeletion,PolicyBackup'))).toEqual([
      backup.id,
      early.id,
      running.id,
      point.id,
    ]);
    expect(ids(await get(`${deletions}&Status=Running`))).toEqual([running.id]);
    expect(ids(await get(`${deletions}&Status=Running&Status=Success`))).toHaveLength(3);
    expect(ids(await get(`${deletions}&FromUtc=${fromUtc}`))).toEqual([running.id, point.id]);
    expect(ids(await get(`${deletions}&FromUtc=${new Date(nowMs - 1_500).toISOString()}`))).toHaveLength(3);
    expect(ids(await get(`${deletions}&ResourceId=vm-c`))).toEqual([point.id]);
    const firstPage = await get(`${deletions}&Limit=2`);
    expect(firstPage.json).toMatchObject({ offset: 0, limit: 2, totalCount: 3 });
    expect(ids(firstPage)).toEqual([early.id, running.id]);
    expect(ids(await get(`${deletions}&Offset=2&Limit=2`))).toEqual([point.id]);
    expect((await get('FromUtc=2026-06-01T08:00:00')).status).toBe(400);
    expect((await get('FromUtc=2026-06-01T10:00:00+02:00')).status).toBe(400);
  });

  it('serves a non-deletion session like any other, with log items naming the VM', async () => {
    const session = sim.addSession({ type: 'RestoreVms', vmIds: ['vm-a', 'vm-b'], outcome: 'Warning' });
    expect(session).toEqual({
      id: expect.any(String),
      vmIds: ['vm-a', 'vm-b'],
      status: 'Warning',
      type: 'RestoreVms',
      restorePointIds: [],
    });
    const reply = await call(`${sim.url}/api/v8.1/jobSessions/${session.id}`, { token });
    expect(reply.json).toMatchObject({ type: 'RestoreVms', localizedType: 'Restore Vms', status: 'Warning' });
    expect(reply.json.retentionJobInfo).toBeUndefined();
    const log = await call(`${sim.url}/api/v8.1/jobSessions/${session.id}/log`, { token });
    expect(log.json.log.map((i: { resourceHashId: string }) => i.resourceHashId)).toEqual(['vm-a', 'vm-b']);
    expect(sim.getVm('vm-b')!.restorePoints).toHaveLength(4);
  });
});

describe('simulator counters route', () => {
  it('answers GET /_simulator/counters on loopback, without counting itself', async () => {
    const sim = await startSimulator({ fleet: { count: 1 } });
    try {
      const token = await login(sim);
      await call(`${sim.url}/api/v8.1/virtualMachines`, { token });
      sim.addFault({ route: '*', kind: 'status', status: 503 });
      const reply = await call(`${sim.url}/_simulator/counters`);
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual(JSON.parse(JSON.stringify(sim.counters)));
      expect(reply.json.requestsByRoute).toEqual({ token: 1, 'v8.1.listVms': 1 });
      expect(reply.json.pointDeleteAnswers).toEqual({ accepted: 0, notFound: 0, locked: 0 });
      expect((await call(`${sim.url}/_simulator/counters`, { method: 'POST' })).status).toBe(503);
    } finally {
      await sim.close();
    }
  });

  it('refuses a request from a non-loopback address with 403', async () => {
    const counters = {
      requestsByRoute: {},
      deleteCallsByVm: {},
      pointDeleteCallsByVm: {},
      pointDeleteCallsByPoint: {},
      pointDeleteAnswers: { accepted: 0, notFound: 0, locked: 0 },
      authorizationByOrigin: {},
      tokensIssued: { password: 0, refresh: 0 },
    };
    const listener = createPipeline({
      routes: [],
      versions: new Set(['v8.1']),
      tokens: createTokenStore({ accessLifetimeMs: 1, refreshLifetimeMs: 1, now: Date.now }),
      faults: createFaultBook([], createRandom(1)),
      counters,
      scheme: 'http',
      latencyMs: 0,
      sleep: async () => undefined,
    });
    const answer = (remoteAddress: string) =>
      new Promise<{ status: number; body: string }>((resolve) => {
        const req = Object.assign(new PassThrough(), {
          url: '/_simulator/counters',
          method: 'GET',
          headers: { host: 'appliance.example' },
          socket: { remoteAddress },
        });
        let status = 0;
        const res = {
          headersSent: false,
          writeHead: (code: number) => (status = code),
          end: (text: string) => resolve({ status, body: text }),
        };
        listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
        req.end();
      });
    const remote = await answer('10.1.2.3');
    expect(remote.status).toBe(403);
    expect(JSON.parse(remote.body)).toMatchObject({ status: 403, title: 'Forbidden' });
    expect(remote.body).not.toContain('requestsByRoute');
    expect((await answer('::ffff:127.0.0.1')).status).toBe(200);
    expect(counters.requestsByRoute).toEqual({});
  });

  it.each([
    ['127.0.0.1', true],
    ['127.10.0.7', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.4', false],
    ['::ffff:10.0.0.4', false],
    ['fe80::1', false],
    ['1127.0.0.1', false],
    [undefined, false],
  ])('isLoopbackAddress(%s) is %s', (address, expected) => {
    expect(isLoopbackAddress(address)).toBe(expected);
  });
});
