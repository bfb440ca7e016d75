import { VeeamNetworkError } from '../../shared/veeam/errors';
import { clientFor, closeAll, recordingClock, simulator, until } from './helpers';

afterEach(closeAll);

describe('one injected clock', () => {
  it('times the per-request timeout and the retry waits', async () => {
    const sim = await simulator({ vms: [{ id: 'slow-1' }] });
    const clock = recordingClock();
    const client = clientFor(sim, {
      apiVersion: 'v8.1',
      clock,
      random: () => 0.5,
      requestTimeoutMs: 1_000,
      retry: { maxRetries: 1, baseDelayMs: 400, maxDelayMs: 10_000, maxRetryTimeMs: 60_000 },
    });
    await client.connect();
    sim.addFault({ route: 'v8.1.getVm', kind: 'slow', delayMs: 60_000, times: 2 });
    const planning = client.planDeletion('slow-1').catch((e) => e);
    await until(() => sim.counters.requestsByRoute['v8.1.getVm'] === 1, 'the first GET');
    await clock.advance(999);
    expect(clock.sleeps).toEqual([]);
    await clock.advance(1);
    // Timed out on the fake clock; the retry waits half of the 400 ms ceiling (random() = 0.5).
    await until(() => clock.sleeps.length === 1, 'the retry wait');
    expect(clock.sleeps).toEqual([200]);
    await clock.advance(200);
    await until(() => sim.counters.requestsByRoute['v8.1.getVm'] === 2, 'the retry');
    await clock.advance(1_000);
    const error = await planning;
    expect(error).toBeInstanceOf(VeeamNetworkError);
    expect(error.code).toBe('ETIMEDOUT');
  });
});
