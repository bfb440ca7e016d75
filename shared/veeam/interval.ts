/**
 * The poll schedule as a small pluggable object. The default learns how long this client's sessions take
 * (shared by all its pollers) and aims each next poll at where completions are likely, falling back to a
 * geometric schedule until it has seen enough sessions finish.
 */
import type { PollIntervalPolicy, PollIntervalContext } from './types';

export interface AdaptiveIntervalOptions {
  /** Delay before the first poll, and the retry step past the longest duration seen (default 1000 ms). */
  initialIntervalMs?: number;
  /** Upper bound of one delay (default 15 000 ms). */
  maxIntervalMs?: number;
  /** Lower bound of one delay (default 10 ms, or initialIntervalMs when that is smaller). */
  minIntervalMs?: number;
  /** Growth of the cold (nothing learned yet) schedule (default 1.5). */
  growthFactor?: number;
  /** Finished sessions needed before the learned schedule is used (default 10). */
  minSamples?: number;
  /** Quantile of the remaining durations to aim the next poll at (default 0.5). */
  targetQuantile?: number;
  /** Finished durations kept, newest first out (default 1024). */
  maxSamples?: number;
}

export const POLL_DEFAULTS = { initialIntervalMs: 1000, maxIntervalMs: 15_000 } as const;

export function createAdaptiveIntervalPolicy(options: AdaptiveIntervalOptions = {}): PollIntervalPolicy {
  const initial = options.initialIntervalMs ?? POLL_DEFAULTS.initialIntervalMs;
  const max = Math.max(initial, options.maxIntervalMs ?? POLL_DEFAULTS.maxIntervalMs);
  const min = Math.min(initial, options.minIntervalMs ?? 10);
  const growth = options.growthFactor ?? 1.5;
  const minSamples = options.minSamples ?? 10;
  const quantile = options.targetQuantile ?? 0.5;
  const maxSamples = options.maxSamples ?? 1024;
  const recent: number[] = [];
  const sorted: number[] = [];

  const clamp = (ms: number) => Math.round(Math.min(max, Math.max(min, ms)));

  function cold({ polls }: PollIntervalContext): number {
    return clamp(initial * growth ** polls);
  }

  return {
    nextDelayMs(context) {
      if (sorted.length < minSamples) return cold(context);
      // Durations longer than what has already elapsed are where this session can still finish.
      const firstLater = upperBound(sorted, context.elapsedMs);
      const later = sorted.length - firstLater;
      if (later === 0) return clamp(initial);
      const target = sorted[firstLater + Math.min(later - 1, Math.floor(later * quantile))];
      return clamp(target - context.elapsedMs);
    },
    observe(durationMs) {
      if (!Number.isFinite(durationMs) || durationMs < 0) return;
      recent.push(durationMs);
      // Kept sorted by insertion: re-sorting on every finished session was a visible cost at 3,000 VMs.
      sorted.splice(upperBound(sorted, durationMs), 0, durationMs);
      if (recent.length > maxSamples) sorted.splice(upperBound(sorted, recent.shift()!) - 1, 1);
    },
  };
}

/** Index of the first value > x in an ascending array. */
function upperBound(values: readonly number[], x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (values[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** .NET TimeSpan text ("00:00:02.5000000", "1.02:03:04.5") in ms; undefined when it does not parse. */
export function parseTimeSpanMs(text: string | null | undefined): number | undefined {
  if (!text) return undefined;
  const m = /^(?:(\d+)\.)?(\d+):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const [, days, h, min, s, frac] = m;
  const fracMs = frac ? Number(`0.${frac}`) * 1000 : 0;
  return ((Number(days ?? 0) * 24 + Number(h)) * 60 + Number(min)) * 60_000 + Number(s) * 1000 + fracMs;
}
