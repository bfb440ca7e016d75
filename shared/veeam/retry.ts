/**
 * Retry decisions as an ordered list of pure strategies (core-rest-pipeline style), plus the one loop that
 * applies them. Strategies do no I/O; `sleep`, `random` and `now` are injectable so tests assert delays.
 */
import type { RetryOptions } from './types';
import { VeeamApiError, VeeamNetworkError } from './errors';
import type { TransportRequest, TransportResponse } from './transport';

/** Sends a request through the retry loop; `canRetry` gates the loop, `onAttempt` counts requests sent. */
export type GuardedSend = (
  request: TransportRequest,
  options: { canRetry?: (error: unknown) => boolean; onAttempt?: () => void },
) => Promise<TransportResponse>;

export const RETRY_DEFAULTS: Required<RetryOptions> = {
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryTimeMs: 120_000,
};

/** Statuses a strategy may retry; 400/401/403/404 and the rest are final. */
const THROTTLING_STATUSES = new Set([429, 503]);
const TRANSIENT_STATUSES = new Set([502, 504]);

export interface RetryInfo {
  error: unknown;
  /** Retries already made (0 before the first retry). */
  retryCount: number;
}

/** `skip` passes the decision to the next strategy; `delayMs` retries after that wait. */
export type RetryDecision = { skip: true } | { delayMs: number };

export interface RetryStrategy {
  name: string;
  decide(info: RetryInfo): RetryDecision;
}

const SKIP: RetryDecision = { skip: true };

/**
 * Retry-After as seconds or an HTTP-date, converted to ms. A past date is 0; anything unparsable is
 * undefined so the caller falls back to backoff.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** 429/503 that carry Retry-After: wait what the appliance asked for, capped at maxDelayMs. */
export function throttlingStrategy(options: { maxDelayMs: number }): RetryStrategy {
  return {
    name: 'throttling',
    decide({ error }) {
      if (!(error instanceof VeeamApiError) || !THROTTLING_STATUSES.has(error.status)) return SKIP;
      if (error.retryAfterMs === undefined) return SKIP;
      return { delayMs: Math.min(options.maxDelayMs, error.retryAfterMs) };
    },
  };
}

/** 429/502/503/504 and network failures: exponential backoff with full jitter. */
export function exponentialStrategy(options: {
  baseDelayMs: number;
  maxDelayMs: number;
  random: () => number;
}): RetryStrategy {
  return {
    name: 'exponential',
    decide({ error, retryCount }) {
      if (!isTransientError(error)) return SKIP;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retryCount);
      return { delayMs: Math.floor(options.random() * ceiling) };
    },
  };
}

/** Errors worth another attempt when the request is idempotent. */
export function isTransientError(error: unknown): boolean {
  if (error instanceof VeeamNetworkError) return true;
  return (
    error instanceof VeeamApiError &&
    (THROTTLING_STATUSES.has(error.status) || TRANSIENT_STATUSES.has(error.status))
  );
}

/**
 * True when the appliance certainly did not act on the request: the connection was never made, or it
 * answered 429/503 (throttled before processing). Only these make a non-idempotent POST safe to resend.
 */
export function isCertainlyNotProcessed(error: unknown): boolean {
  if (error instanceof VeeamNetworkError) return error.notSent;
  return error instanceof VeeamApiError && THROTTLING_STATUSES.has(error.status);
}

export interface RetryRuntime {
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
  now(): number;
}

export interface RetryLoopOptions {
  options: Required<RetryOptions>;
  runtime: RetryRuntime;
  /** Extra gate, e.g. isCertainlyNotProcessed for a delete. Default: every strategy decision stands. */
  canRetry?: (error: unknown) => boolean;
  abortSignal?: AbortSignal;
  /** Called before each wait, e.g. for a log line. */
  onRetry?: (info: { retryCount: number; delayMs: number; strategy: string; error: unknown }) => void;
}

export function defaultStrategies(options: Required<RetryOptions>, random: () => number): RetryStrategy[] {
  return [throttlingStrategy(options), exponentialStrategy({ ...options, random })];
}

/**
 * The delay before retry number `retryCount + 1`, or undefined to give up: the first strategy that does not
 * skip decides, and the attempt and total-time bounds cut it off.
 */
export function nextRetryDelayMs(
  strategies: readonly RetryStrategy[],
  info: RetryInfo & { elapsedMs: number },
  options: Required<RetryOptions>,
): { delayMs: number; strategy: string } | undefined {
  if (info.retryCount >= options.maxRetries) return undefined;
  for (const strategy of strategies) {
    const decision = strategy.decide(info);
    if ('skip' in decision) continue;
    if (info.elapsedMs + decision.delayMs > options.maxRetryTimeMs) return undefined;
    return { delayMs: decision.delayMs, strategy: strategy.name };
  }
  return undefined;
}

/** Runs `attempt` until it succeeds or the strategies give up; the last error is rethrown unchanged. */
export async function withRetry<T>(
  attempt: (attemptIndex: number) => Promise<T>,
  loop: RetryLoopOptions,
): Promise<T> {
  const { options, runtime } = loop;
  const strategies = defaultStrategies(options, runtime.random);
  const startedAt = runtime.now();
  for (let retryCount = 0; ; retryCount++) {
    try {
      return await attempt(retryCount);
    } catch (error) {
      if (loop.abortSignal?.aborted) throw error;
      if (loop.canRetry && !loop.canRetry(error)) throw error;
      const next = nextRetryDelayMs(
        strategies,
        { error, retryCount, elapsedMs: runtime.now() - startedAt },
        options,
      );
      if (!next) throw error;
      loop.onRetry?.({ retryCount: retryCount + 1, delayMs: next.delayMs, strategy: next.strategy, error });
      await runtime.sleep(next.delayMs, loop.abortSignal);
    }
  }
}
