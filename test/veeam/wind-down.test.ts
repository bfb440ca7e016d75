import type { RetryNotice } from '../../shared/veeam/types';
import { createFakeClock } from '../support/fakeClock';
import { clientFor, closeAll, PASSWORD, simulator } from './helpers';

afterEach(closeAll);

describe('deadline', () => {
  it('resolves TimedOut at the deadline with no last poll and no log read', async () => {
    const sim = await simulator({ vms: [{ id: 'stuck', stuck: true }] });
    const clock = createFakeClock(Date.now());
    const client = clientFor(sim, { apiVersion: 'v8.1', clock, poll: { initialIntervalMs: 1_000 } });
    const submitted = await client.deleteSnapshots('stuck');
    if (submitted.kind !== 'session') throw new Error('expected a session');
    const before = client.requests.length;
    const poller = client.createSessionPoller(submitted.session, { deadline: clock.now() + 100 });
    const result = poller.pollUntilDone();
    await clock.advance(100);
    const timedOut = await result;
    expect(timedOut).toMatchObject({ status: 'TimedOut', polls: 0 });
    expect(timedOut.log).toBeUndefined();
    expect(client.requests.length).toBe(before);
  });
});

describe('one abort listener per signal', () => {
  it('50 sessions waiting on one signal raise no MaxListenersExceededWarning', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `l-${i}`);
    const sim = await simulator({ vms: ids.map((id) => ({ id, stuck: true })) });
    const client = clientFor(sim, {
      apiVersion: 'v8.1',
      poll: { initialIntervalMs: 60_000, maxIntervalMs: 60_000 },
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const sessions = await Promise.all(ids.map((id) => client.deleteSnapshots(id)));
      const abort = new AbortController();
      const waits = sessions.map((s) =>
        s.kind === 'session'
          ? client
              .createSessionPoller(s.session)
              .pollUntilDone({ abortSignal: abort.signal })
              .catch((e) => e)
          : Promise.resolve(undefined),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      abort.abort(new Error('stop'));
      const ends = await Promise.all(waits);
      expect(ends.every((e) => e instanceof Error && e.message === 'stop')).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((w) => w.includes('MaxListenersExceeded'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('splitBatchResult', () => {
  it('reads the batch log once and gives each VM the status of its own items', async () => {
    const sim = await simulator({
      vms: [
        { id: 'b-ok', sessionDurationMs: 20 },
        { id: 'b-bad', sessionDurationMs: 20, outcome: 'Error' },
        { id: 'b-ok2', sessionDurationMs: 20 },
      ],
    });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const ids = ['b-ok', 'b-bad', 'b-ok2'];
    const submitted = await client.deleteSnapshotsBatch(ids);
    if (submitted.kind !== 'session') throw new Error('expected a session');
    const result = await client.createSessionPoller(submitted.session).pollUntilDone();
    expect(result.status).toBe('Error');
    const logsBefore = sim.counters.requestsByRoute['v8.1.getSessionLog'] ?? 0;
    const split = await client.splitBatchResult(result, ids);
    expect(sim.counters.requestsByRoute['v8.1.getSessionLog']).toBe(logsBefore + 1);
    expect(Object.fromEntries([...split].map(([vm, r]) => [vm, r.status]))).toEqual({
      'b-ok': 'Success',
      'b-bad': 'Error',
      'b-ok2': 'Success',
    });
    expect(split.get('b-bad')?.sessionId).toBe(result.sessionId);
  });
});

describe('onRetry', () => {
  it('is called once per retry decision with the route and reason, never a token', async () => {
    const sim = await simulator({ vms: [{ id: 'r1' }] });
    const notices: RetryNotice[] = [];
    const client = clientFor(sim, { apiVersion: 'v8.1', onRetry: (n) => notices.push(n) });
    await client.connect();
    sim.addFault({ route: 'v8.1.getVm', kind: 'status', status: 503, times: 2 });
    await client.planDeletion('r1');
    expect(notices.map((n) => [n.method, n.path, n.retryCount, n.strategy, n.reason])).toEqual([
      ['GET', '/api/v8.1/virtualMachines/{id}', 1, 'exponential', 'status 503'],
      ['GET', '/api/v8.1/virtualMachines/{id}', 2, 'exponential', 'status 503'],
    ]);
    const text = JSON.stringify(notices);
    expect(text).not.toMatch(/Bearer|access_token/);
    expect(text).not.toContain(PASSWORD);
  });
});
