/**
 * The poll schedule: one object shared by every poller of a client, so what one session teaches (how long
 * deletions take on this appliance, today) decides when the others are polled.
 *
 * A run's sessions are mostly a cohort: submitted within seconds of each other, ending over a spread of
 * durations. The wall time is set by the last of them, the appliance's load by all of them. So:
 * - a few scout sessions are polled densely (every `scoutGrowth` × their age) and measure the spread;
 * - when few sessions are being followed (`fewSessions`), polling is cheap, so none waits longer than that;
 * - the others wait until a scout has finished, then poll first at the shortest duration seen;
 * - after that each session's interval is `tailFactor` × its age × S(age)^`tailExponent`, where S is the
 *   Kaplan-Meier estimate of the share of sessions still running at that age (finished sessions are exact
 *   events, running ones are censored at their last poll). While most sessions are still running the
 *   interval is long, and it shrinks to the minimum as the last ones remain, where polling is cheap
 *   because few are left and where it decides when the run ends.
 * Waiting pollers are re-asked by the scheduler (`learns`), so news from other sessions moves a poll forward.
 */
import type { PollIntervalContext, PollIntervalPolicy } from './types';

export interface AdaptiveIntervalOptions {
  /** Delay before a scout's first poll, and the floor of every first poll (default 1000 ms). */
  initialIntervalMs?: number;
  /** Upper bound of one delay (default 15 000 ms). */
  maxIntervalMs?: number;
  /** Lower bound of one delay (default 50 ms, or initialIntervalMs when that is smaller). */
  minIntervalMs?: number;
  /** Sessions polled densely to learn the duration spread (default 10). */
  scouts?: number;
  /** A scout's interval as a share of its age (default 0.15). */
  scoutGrowth?: number;
  /** At or below this many sessions still followed, every interval is at most scoutGrowth × age (default 50). */
  fewSessions?: number;
  /** Scale of the interval of the other sessions, × age × S(age)^tailExponent (default 10). */
  tailFactor?: number;
  /** How sharply the interval shrinks as fewer sessions remain (default 2). */
  tailExponent?: number;
  /** Age resolution of the survival estimate (default 250 ms). */
  bucketMs?: number;
  /** How long a computed survival curve is reused (default 100 ms). */
  curveTtlMs?: number;
  now?: () => number;
}

export const POLL_DEFAULTS = { initialIntervalMs: 1000, maxIntervalMs: 15_000 } as const;

export function createAdaptiveIntervalPolicy(options: AdaptiveIntervalOptions = {}): PollIntervalPolicy {
  const initial = options.initialIntervalMs ?? POLL_DEFAULTS.initialIntervalMs;
  const max = Math.max(initial, options.maxIntervalMs ?? POLL_DEFAULTS.maxIntervalMs);
  const min = Math.min(initial, options.minIntervalMs ?? 50);
  const scoutCount = options.scouts ?? 10;
  const scoutGrowth = options.scoutGrowth ?? 0.15;
  const fewSessions = options.fewSessions ?? 50;
  const tailFactor = options.tailFactor ?? 10;
  const tailExponent = options.tailExponent ?? 2;
  const now = options.now ?? Date.now;
  const survival = createSurvivalEstimate(options.bucketMs ?? 250, options.curveTtlMs ?? 100, now);
  const scouts = new Set<string>();
  const followed = new Set<string>();
  let finishedCount = 0;
  let shortestMs = Infinity;

  const clamp = (ms: number) => Math.min(max, Math.max(min, ms));

  function isScout(sessionId: string): boolean {
    if (scouts.has(sessionId)) return true;
    if (scouts.size >= scoutCount) return false;
    scouts.add(sessionId);
    return true;
  }

  function dueAtAge(context: PollIntervalContext): number {
    followed.add(context.sessionId);
    const last = context.lastPollElapsedMs;
    const dense = scoutGrowth * Math.max(last ?? 0, initial);
    if (isScout(context.sessionId)) return last === undefined ? initial : last + clamp(dense);
    if (last === undefined) {
      // Until a scout has finished, nothing says when to look; the cap bounds the wait.
      return shortestMs === Infinity ? max : Math.max(initial, shortestMs);
    }
    const share = survival.at(context.elapsedMs) ** tailExponent;
    const interval = tailFactor * Math.max(last, initial) * share;
    const few = fewSessions > 0 && followed.size - finishedCount <= fewSessions;
    return last + clamp(few ? Math.min(interval, dense) : interval);
  }

  return {
    nextDelayMs: (context) => dueAtAge(context) - context.elapsedMs,
    learns: true,
    observeRunning(elapsedMs, previousElapsedMs) {
      survival.running(elapsedMs, previousElapsedMs);
    },
    observe(durationMs, previousElapsedMs) {
      if (!Number.isFinite(durationMs) || durationMs < 0) return;
      shortestMs = Math.min(shortestMs, durationMs);
      finishedCount += 1;
      survival.finished(durationMs, previousElapsedMs);
    },
  };
}

/**
 * Kaplan-Meier estimate of the share of sessions still running at a given age, over age buckets:
 * a finished session is an event at its duration, a running one is censored at the age of its last poll.
 */
function createSurvivalEstimate(bucketMs: number, ttlMs: number, now: () => number) {
  let finished = new Float64Array(64);
  let censored = new Float64Array(64);
  let top = 0;
  let curve = new Float64Array(0);
  let curveAt = -Infinity;
  let changed = true;

  const bucketOf = (ms: number) => Math.max(0, Math.floor(ms / bucketMs));
  function grow(bucket: number) {
    if (bucket < finished.length) return;
    const size = Math.max(bucket + 1, finished.length * 2);
    const f = new Float64Array(size);
    f.set(finished);
    finished = f;
    const c = new Float64Array(size);
    c.set(censored);
    censored = c;
  }
  /** A session seen running (censored) or finished at `ageMs`; its previous censoring point is dropped. */
  function record(kind: 'running' | 'finished', ageMs: number, previousElapsedMs?: number) {
    if (previousElapsedMs !== undefined) censored[bucketOf(previousElapsedMs)] -= 1;
    const bucket = bucketOf(ageMs);
    grow(bucket);
    (kind === 'finished' ? finished : censored)[bucket] += 1;
    top = Math.max(top, bucket);
    changed = true;
  }
  function compute() {
    curve = new Float64Array(top + 2);
    let remaining = 0;
    for (let b = top; b >= 0; b--) remaining += finished[b] + censored[b];
    // curve[b] = share still running at the start of bucket b; `remaining` = sessions known at that age.
    let share = 1;
    for (let b = 0; b <= top + 1; b++) {
      curve[b] = share;
      if (b > top) break;
      if (remaining > 0 && finished[b] > 0) share *= 1 - finished[b] / remaining;
      remaining -= finished[b] + censored[b];
    }
    curveAt = now();
    changed = false;
  }
  return {
    running: (elapsedMs: number, previousElapsedMs?: number) =>
      record('running', elapsedMs, previousElapsedMs),
    finished: (durationMs: number, previousElapsedMs?: number) =>
      record('finished', durationMs, previousElapsedMs),
    at(elapsedMs: number): number {
      if (changed && now() - curveAt >= ttlMs) compute();
      if (curve.length === 0) return 1;
      return curve[Math.min(curve.length - 1, bucketOf(elapsedMs))];
    },
  };
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
