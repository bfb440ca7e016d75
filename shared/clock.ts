import { setTimeout as delay } from 'node:timers/promises';

/**
 * The one source of time for the whole run. The entry point creates it (or a test hands in a fake one) and
 * passes it down, so deadlines, lease renewals, token refreshes, retries and poll schedules all agree on
 * what "now" is, and tests of them advance time instead of sleeping.
 */
export interface Clock {
  /** Epoch ms. */
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
  /** Resolves after `ms`; rejects with the signal's reason when aborted first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
  sleep: (ms, signal) => delay(ms, undefined, { signal }),
};
