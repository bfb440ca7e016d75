import type { Clock } from '../../shared/clock';

export interface FakeClock extends Clock {
  /** Moves time forward, firing every timer that falls due on the way, in due order. */
  advance(ms: number): Promise<void>;
  /** Timers armed and not yet fired or cleared. */
  active(): number;
}

/**
 * A clock that only moves when told. `advance` lets promise callbacks run between timers, so code that
 * awaits a sleep and then arms the next one behaves as it would in real time.
 */
export function createFakeClock(startMs = Date.UTC(2026, 0, 1)): FakeClock {
  let now = startMs;
  let nextId = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const flush = async () => {
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  const clock: FakeClock = {
    now: () => now,
    setTimer(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: now + Math.max(0, ms), fn });
      return id;
    },
    clearTimer(id) {
      timers.delete(id as number);
    },
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const id = clock.setTimer(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        const onAbort = () => {
          clock.clearTimer(id);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
    async advance(ms) {
      const target = now + ms;
      await flush();
      for (;;) {
        const due = [...timers.entries()]
          .filter(([, t]) => t.at <= target)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = Math.max(now, due[1].at);
        due[1].fn();
        await flush();
      }
      now = target;
      await flush();
    },
    active: () => timers.size,
  };
  return clock;
}
