import type { JobSession } from '../../shared/veeam/types';
import { clientFor, closeAll, simulator } from './helpers';

afterEach(closeAll);

const vm = (id: string, extra: Record<string, unknown> = {}) => ({ id, sessionDurationMs: 40, ...extra });

async function submit(client: ReturnType<typeof clientFor>, vmId: string): Promise<JobSession> {
  const submitted = await client.deleteSnapshots(vmId);
  if (submitted.kind !== 'session') throw new Error('expected a session');
  return submitted.session;
}

describe('session polling', () => {
  it('foreign-origin self link: the token never reaches the other origin, a warning is reported', async () => {
    const foreign = await simulator();
    const sim = await simulator({ vms: [vm('f1')] });
    sim.addFault({ route: '*', kind: 'foreignSelfLink', foreignOrigin: foreign.url });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const session = await submit(client, 'f1');
    expect(session._links!.self.href.startsWith(foreign.url)).toBe(true);
    const result = await client.createSessionPoller(session).pollUntilDone();
    expect(result.status).toBe('Success');
    expect(foreign.counters.authorizationByOrigin).toEqual({});
    expect(Object.values(foreign.counters.requestsByRoute).reduce((a, b) => a + b, 0)).toBe(0);
    expect(client.warnings).toHaveLength(1);
    expect(client.warnings[0]).toContain(foreign.url);
    expect(sim.counters.authorizationByOrigin[sim.origin]).toBeGreaterThan(0);
  });

  it('same-origin self link is followed', async () => {
    const sim = await simulator({ vms: [vm('s1')] });
    const client = clientFor(sim, { apiVersion: 'v1' });
    const session = await submit(client, 's1');
    await client.createSessionPoller(session).pollUntilDone();
    expect(client.warnings).toEqual([]);
    expect(
      client.requests.filter((r) => r.kind === 'poll').every((r) => r.path === '/api/v1/jobSessions/{id}'),
    ).toBe(true);
  });

  it('a stuck session ends TimedOut with its id', async () => {
    const sim = await simulator({ vms: [vm('stuck', { stuck: true })] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const session = await submit(client, 'stuck');
    const result = await client.createSessionPoller(session, { maxWaitMs: 150 }).pollUntilDone();
    expect(result).toMatchObject({ status: 'TimedOut', sessionId: session.id, lastStatus: 'Running' });
    expect(result.polls).toBeGreaterThan(1);
  });

  it('the caller deadline cuts maxWaitMs', async () => {
    const sim = await simulator({ vms: [vm('stuck2', { stuck: true })] });
    const client = clientFor(sim, { apiVersion: 'v1' });
    const session = await submit(client, 'stuck2');
    const result = await client
      .createSessionPoller(session, { maxWaitMs: 60_000, deadline: Date.now() + 100 })
      .pollUntilDone();
    expect(result.status).toBe('TimedOut');
  });

  it('an Error session comes back with its last log entries', async () => {
    const sim = await simulator({ vms: [vm('err', { outcome: 'Error' })] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const result = await client.createSessionPoller(await submit(client, 'err')).pollUntilDone();
    expect(result.status).toBe('Error');
    expect(result.log!.length).toBeGreaterThan(0);
    expect(result.log!.length).toBeLessThanOrEqual(20);
    expect(result.log!.some((e) => e.status === 'Error' && e.message.length > 0 && e.time.length > 0)).toBe(
      true,
    );
  });

  it('a Warning session on v1 also carries its log', async () => {
    const sim = await simulator({ vms: [vm('warn', { outcome: 'Warning' })] });
    const client = clientFor(sim, { apiVersion: 'v1' });
    const result = await client.createSessionPoller(await submit(client, 'warn')).pollUntilDone();
    expect(result.status).toBe('Warning');
    expect(result.log!.length).toBeGreaterThan(0);
  });

  it('Retry-After on a poll is honoured and the poll still completes', async () => {
    const sim = await simulator({ vms: [vm('ra')] });
    sim.addFault({ route: 'v1.getSession', kind: 'status', status: 429, retryAfter: '0', times: 2 });
    const client = clientFor(sim, { apiVersion: 'v1' });
    const result = await client.createSessionPoller(await submit(client, 'ra')).pollUntilDone();
    expect(result.status).toBe('Success');
    expect(client.requests.filter((r) => r.status === 429)).toHaveLength(2);
  });

  it('serialize / restorePoller resumes a poll elsewhere', async () => {
    const sim = await simulator({ vms: [vm('ser', { sessionDurationMs: 80 })] });
    const client = clientFor(sim, { apiVersion: 'v1' });
    const first = client.createSessionPoller(await submit(client, 'ser'), { maxWaitMs: 5000 });
    const saved = first.serialize();
    expect(saved).not.toContain('Bearer');
    const other = clientFor(sim, { apiVersion: 'v1' });
    await other.connect();
    const restored = other.restorePoller(saved);
    expect(restored.sessionId).toBe(first.sessionId);
    await expect(restored.pollUntilDone()).resolves.toMatchObject({ status: 'Success' });
    expect(() => other.restorePoller('{"v":1}')).toThrow('not valid');
  });

  it('an abort signal stops pollUntilDone; a later call resumes', async () => {
    const sim = await simulator({ vms: [vm('abort', { sessionDurationMs: 150 })] });
    const client = clientFor(sim, { apiVersion: 'v1' });
    const poller = client.createSessionPoller(await submit(client, 'abort'));
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('stop polling')), 30);
    await expect(poller.pollUntilDone({ abortSignal: abort.signal })).rejects.toThrow('stop polling');
    await expect(poller.pollUntilDone()).resolves.toMatchObject({ status: 'Success' });
  });

  it('v8.1: many sessions due together are answered by the running page, not N single GETs', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `many-${i}`);
    const sim = await simulator({ vms: ids.map((id) => vm(id, { sessionDurationMs: 600 })) });
    const client = clientFor(sim, { apiVersion: 'v8.1', maxInFlight: 4 });
    const submitted = await Promise.all(ids.map((id) => submit(client, id)));
    const origFetchCount = sim.counters.requestsByRoute['v8.1.getSession'] ?? 0;
    const pollers = submitted.map((s) => client.createSessionPoller(s));
    const results = await Promise.all(pollers.map((p) => p.pollUntilDone()));
    expect(results.every((r) => r.status === 'Success')).toBe(true);
    expect(sim.counters.requestsByRoute['v8.1.listSessions']).toBeGreaterThan(0);
    const singles = (sim.counters.requestsByRoute['v8.1.getSession'] ?? 0) - origFetchCount;
    const polls = results.reduce((a, r) => a + r.polls, 0);
    // Polls answered by the running page cost no single GET.
    expect(singles).toBeLessThan(polls);
    expect(singles).toBeGreaterThanOrEqual(ids.length);
  });

  it('the global in-flight limit holds across concurrent requests', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `lim-${i}`);
    const sim = await simulator({ vms: ids.map((id) => vm(id)), latencyMs: 20 });
    const intervals: Array<[number, number]> = [];
    const client = clientFor(sim, {
      apiVersion: 'v8.1',
      maxInFlight: 3,
      onRequest: (info) => intervals.push([Date.now() - info.durationMs, Date.now()]),
    });
    await client.connect();
    await Promise.all(ids.map((id) => client.planDeletion(id)));
    // Largest number of exchanges open at the same instant (half-open intervals).
    const edges = intervals.flatMap(([a, b]) => [[a, 1] as const, [b, -1] as const]);
    edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let open = 0;
    let peak = 0;
    for (const [, step] of edges) peak = Math.max(peak, (open += step));
    expect(intervals.length).toBeGreaterThanOrEqual(ids.length * 2);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
  });
});
