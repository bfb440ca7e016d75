import { createAdaptiveIntervalPolicy, parseTimeSpanMs } from '../../shared/veeam/interval';
import type { Clock } from '../../shared/clock';
import { createScheduler } from '../../shared/veeam/scheduler';

function fakeClock() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let nextId = 1;
  const clock: Pick<Clock, 'now' | 'setTimer' | 'clearTimer'> & {
    advance(ms: number): void;
    active(): number;
  } = {
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

  it('releases due waiters only into the room `admit` gives, the rest on `wake`, in due order, without spinning', async () => {
    const clock = fakeClock();
    let room = 2;
    const scheduler = createScheduler(clock, { admit: () => room });
    const order: number[] = [];
    const waits = [50, 10, 40, 20, 30].map((due, i) =>
      scheduler.waitUntil(due).then(() => {
        order.push(i);
        room -= 1;
      }),
    );
    // The released ones take their room before the next timer, as a request takes its slot.
    for (let t = 0; t < 100; t += 10) {
      clock.advance(10);
      await Promise.resolve();
    }
    expect(order).toEqual([1, 3]);
    // Due, not admitted: no zero-delay timer keeps firing while the room is taken.
    expect(clock.active()).toBe(0);
    expect(scheduler.pending).toBe(3);
    scheduler.wake();
    await Promise.resolve();
    expect(order).toEqual([1, 3]);
    room = 1;
    scheduler.wake();
    await Promise.resolve();
    expect(order).toEqual([1, 3, 4]);
    room = 5;
    scheduler.wake();
    await Promise.all(waits);
    expect(order).toEqual([1, 3, 4, 2, 0]);
    expect(scheduler.pending).toBe(0);
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

  it('re-asks replannable waiters on one sweep timer and releases those that became due', async () => {
    const clock = fakeClock();
    const scheduler = createScheduler(clock, { replanEveryMs: 100 });
    let target = 10_000;
    let asked = 0;
    const released: string[] = [];
    void scheduler
      .waitUntil(10_000, undefined, () => {
        asked++;
        return target;
      })
      .then(() => released.push('moving'));
    void scheduler.waitUntil(5000).then(() => released.push('fixed'));
    expect(clock.active()).toBe(2); // the due timer and the sweep timer, whatever the number of waiters
    clock.advance(100);
    expect(asked).toBe(1);
    target = 250; // news from other sessions: poll sooner
    clock.advance(200);
    await Promise.resolve();
    expect(released).toEqual(['moving']);
    expect(scheduler.pending).toBe(1);
    clock.advance(5000);
    await Promise.resolve();
    expect(released).toEqual(['moving', 'fixed']);
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
  const at = (sessionId: string, elapsedMs: number, lastPollElapsedMs?: number, polls = 0) => ({
    sessionId,
    elapsedMs,
    lastPollElapsedMs,
    polls,
  });
  const options = { initialIntervalMs: 1000, maxIntervalMs: 15_000, scouts: 2, now: () => 0 };

  it('scouts poll first after the initial interval, then every 15 % of their age up to the cap', () => {
    const policy = createAdaptiveIntervalPolicy(options);
    expect(policy.nextDelayMs(at('scout-1', 0))).toBe(1000);
    expect(policy.nextDelayMs(at('scout-1', 8000, 8000))).toBe(1200);
    expect(policy.nextDelayMs(at('scout-1', 100_000, 100_000))).toBe(15_000);
  });

  it('the other sessions wait for a scout to finish, then poll first at the shortest duration seen', () => {
    const policy = createAdaptiveIntervalPolicy(options);
    policy.nextDelayMs(at('scout-1', 0));
    policy.nextDelayMs(at('scout-2', 0));
    expect(policy.nextDelayMs(at('vm-3', 2000))).toBe(13_000); // nothing learned yet: the cap bounds it
    policy.observe!(5000, 4000);
    expect(policy.nextDelayMs(at('vm-3', 2000))).toBe(3000);
    expect(policy.nextDelayMs(at('vm-3', 6000))).toBe(-1000); // due now
  });

  it('polls rarely while most sessions run and densely once few remain', () => {
    let clock = 0;
    const policy = createAdaptiveIntervalPolicy({
      ...options,
      scouts: 0,
      fewSessions: 0,
      now: () => (clock += 1000),
    });
    // 100 sessions seen running at 5 s; 50 of them then finish between 5 and 10 s.
    for (let i = 0; i < 100; i++) policy.observeRunning!(5000);
    const early = policy.nextDelayMs(at('vm', 5000, 5000, 1));
    for (let i = 0; i < 50; i++) policy.observe!(5000 + i * 100, 5000);
    for (let i = 0; i < 50; i++) policy.observeRunning!(10_000, 5000);
    const half = policy.nextDelayMs(at('vm', 10_000, 10_000, 2));
    for (let i = 0; i < 45; i++) policy.observe!(10_000 + i * 100, 10_000);
    for (let i = 0; i < 5; i++) policy.observeRunning!(15_000, 10_000);
    const tail = policy.nextDelayMs(at('vm', 15_000, 15_000, 3));
    expect(early).toBe(15_000); // S = 1: 10 × 5 s × 1², capped
    expect(half).toBe(15_000); // S = 0.5: 10 × 10 s × 0.5² = 25 s, capped
    expect(tail).toBeCloseTo(10 * 15_000 * 0.05 ** 2); // S = 0.05: 375 ms
  });

  it('with few sessions left to follow, none waits longer than 15 % of its age', () => {
    let clock = 0;
    const policy = createAdaptiveIntervalPolicy({ ...options, scouts: 0, now: () => (clock += 1000) });
    policy.observe!(5000);
    policy.observeRunning!(10_000);
    expect(policy.nextDelayMs(at('vm-1', 10_000, 10_000, 1))).toBe(1500);
  });

  it('never goes below the minimum nor above the cap', () => {
    let clock = 0;
    const policy = createAdaptiveIntervalPolicy({
      ...options,
      scouts: 0,
      minIntervalMs: 100,
      now: () => (clock += 1000),
    });
    policy.observeRunning!(1000);
    for (let i = 0; i < 99; i++) policy.observe!(1000, undefined);
    expect(policy.nextDelayMs(at('vm', 2000, 2000, 1))).toBe(100);
    expect(policy.nextDelayMs(at('scout?', 500_000, 500_000, 9))).toBeLessThanOrEqual(15_000);
  });

  it('tells pollers that what it learns can move their waits', () => {
    expect(createAdaptiveIntervalPolicy(options).learns).toBe(true);
  });

  it('parses .NET TimeSpan durations', () => {
    expect(parseTimeSpanMs('00:00:02.5000000')).toBe(2500);
    expect(parseTimeSpanMs('1.00:00:01')).toBe(86_401_000);
    expect(parseTimeSpanMs('nonsense')).toBeUndefined();
  });
});
