import { createAdaptiveIntervalPolicy, parseTimeSpanMs } from '../../shared/veeam/interval';
import { createScheduler, type Clock } from '../../shared/veeam/scheduler';

function fakeClock() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let nextId = 1;
  const clock: Clock & { advance(ms: number): void; active(): number } = {
    now: () => now,
    setTimer(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimer(id) {
      timers.delete(id as number);
    },
    advance(ms) {
      const target = now + ms;
      for (;;) {
        const due = [...timers.entries()]
          .filter(([, t]) => t.at <= target)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].fn();
      }
      now = target;
    },
    active: () => timers.size,
  };
  return clock;
}

describe('scheduler', () => {
  it('uses one timer for any number of waiters and releases them in due order', async () => {
    const clock = fakeClock();
    const scheduler = createScheduler(clock);
    const order: number[] = [];
    const waits = [300, 100, 200, 100].map((due, i) => scheduler.waitUntil(due).then(() => order.push(i)));
    expect(clock.active()).toBe(1);
    expect(scheduler.pending).toBe(4);
    clock.advance(150);
    await Promise.resolve();
    await Promise.resolve();
    expect(order).toEqual([1, 3]);
    expect(clock.active()).toBe(1);
    clock.advance(200);
    await Promise.all(waits);
    expect(order).toEqual([1, 3, 2, 0]);
    expect(clock.active()).toBe(0);
  });

  it('re-arms for an earlier waiter and drops aborted ones', async () => {
    const clock = fakeClock();
    const scheduler = createScheduler(clock);
    const abort = new AbortController();
    const late = scheduler.waitUntil(1000, abort.signal);
    const early = scheduler.waitUntil(10);
    expect(clock.active()).toBe(1);
    abort.abort(new Error('stop'));
    await expect(late).rejects.toThrow('stop');
    clock.advance(10);
    await early;
    expect(scheduler.pending).toBe(0);
    expect(clock.active()).toBe(0);
  });

  it('close rejects waiters and stops the timer', async () => {
    const clock = fakeClock();
    const scheduler = createScheduler(clock);
    const wait = scheduler.waitUntil(50);
    scheduler.close();
    await expect(wait).rejects.toThrow('closed');
    expect(clock.active()).toBe(0);
  });
});

describe('adaptive interval policy', () => {
  it('cold: first poll after the initial interval, growing by 1.5 to the cap', () => {
    const policy = createAdaptiveIntervalPolicy({ initialIntervalMs: 1000, maxIntervalMs: 15_000 });
    const delays = [0, 1, 2, 3, 4, 5, 6, 7].map((polls) => policy.nextDelayMs({ elapsedMs: 0, polls }));
    expect(delays).toEqual([1000, 1500, 2250, 3375, 5063, 7594, 11_391, 15_000]);
  });

  it('forgets the oldest durations beyond maxSamples, whatever their rank', () => {
    const policy = createAdaptiveIntervalPolicy({ initialIntervalMs: 1000, minSamples: 2, maxSamples: 2 });
    for (const d of [30_000, 2000, 4000]) policy.observe!(d); // 30 s falls out
    expect(policy.nextDelayMs({ elapsedMs: 3000, polls: 1 })).toBe(1000); // only {4 s} is later → 4 s − 3 s
    expect(policy.nextDelayMs({ elapsedMs: 5000, polls: 2 })).toBe(1000); // nothing later: the step
  });

  it('learned: aims at the median of the durations still possible, then steps past the longest seen', () => {
    const policy = createAdaptiveIntervalPolicy({
      initialIntervalMs: 1000,
      maxIntervalMs: 15_000,
      minSamples: 4,
    });
    for (const d of [5000, 10_000, 15_000, 20_000]) policy.observe!(d);
    expect(policy.nextDelayMs({ elapsedMs: 0, polls: 0 })).toBe(15_000); // median of 5,10,15,20 → 15 s
    expect(policy.nextDelayMs({ elapsedMs: 12_000, polls: 1 })).toBe(8000); // {15,20} → 20 s
    expect(policy.nextDelayMs({ elapsedMs: 19_000, polls: 2 })).toBe(1000);
    expect(policy.nextDelayMs({ elapsedMs: 21_000, polls: 3 })).toBe(1000);
  });

  it('never goes below the minimum nor above the cap', () => {
    const policy = createAdaptiveIntervalPolicy({ initialIntervalMs: 50, maxIntervalMs: 200, minSamples: 1 });
    policy.observe!(10_000);
    expect(policy.nextDelayMs({ elapsedMs: 0, polls: 0 })).toBe(200);
    policy.observe!(100);
    policy.observe!(101);
    expect(policy.nextDelayMs({ elapsedMs: 100, polls: 1 })).toBeGreaterThanOrEqual(10);
  });

  it('parses .NET TimeSpan durations', () => {
    expect(parseTimeSpanMs('00:00:02.5000000')).toBe(2500);
    expect(parseTimeSpanMs('1.00:00:01')).toBe(86_401_000);
    expect(parseTimeSpanMs('nonsense')).toBeUndefined();
  });
});
