import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MIN_SUBMIT_WINDOW_MS, submitMarginFor, submitWindowMs } from '../cleanup/types';
import { ConfigError } from '../errors';

/** Consumption plan default (the plan host.json assumes). */
const FALLBACK_FUNCTION_TIMEOUT_MS = 10 * 60_000;
/** The app setting that overrides host.json's functionTimeout (the host reads AzureFunctionsJobHost__<path>). */
export const FUNCTION_TIMEOUT_SETTING = 'AzureFunctionsJobHost__functionTimeout';

/** A functionTimeout value ("hh:mm:ss" or "d.hh:mm:ss") in ms; undefined for "-1" (unbounded) or any other text. */
export function parseFunctionTimeout(raw: unknown): number | undefined {
  if (typeof raw !== 'string') return undefined;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(raw.trim());
  if (!match) return undefined;
  const [, days, h, m, s] = match;
  return (((Number(days ?? 0) * 24 + Number(h)) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

/** host.json's functionTimeout in ms; undefined when absent or unbounded. */
export function readFunctionTimeoutMs(hostJsonPath: string): number | undefined {
  try {
    const host = JSON.parse(readFileSync(hostJsonPath, 'utf8')) as { functionTimeout?: unknown };
    return parseFunctionTimeout(host.functionTimeout);
  } catch {
    return undefined;
  }
}

export interface TimeBudgetOptions {
  /** CLEANUP_TIME_BUDGET, already validated by the config. */
  configuredMs?: number;
  hostJsonPath: string;
  /** App settings (default process.env); AzureFunctionsJobHost__functionTimeout overrides host.json. */
  env?: Record<string, string | undefined>;
  /** Told when CLEANUP_TIME_BUDGET is cut to the function timeout. */
  log?: (message: string) => void;
}

/**
 * How long a timer run may take: CLEANUP_TIME_BUDGET, cut to the function timeout (the app setting
 * AzureFunctionsJobHost__functionTimeout when set, else host.json's), else that timeout, minus a safety
 * margin (10 %, at least 30 s) so the engine stops and reports before the host kills the invocation. Throws
 * a ConfigError when what is left after the run's submit margin is 1 s or less: such a run could submit
 * nothing.
 */
export function timeBudgetMs(options: TimeBudgetOptions): number {
  const env = options.env ?? process.env;
  const fromSetting = parseFunctionTimeout(env[FUNCTION_TIMEOUT_SETTING]);
  const hostTimeout = fromSetting ?? readFunctionTimeoutMs(options.hostJsonPath);
  const hostSource = fromSetting !== undefined ? `${FUNCTION_TIMEOUT_SETTING} (environment)` : 'host.json';
  let budget = options.configuredMs ?? hostTimeout ?? FALLBACK_FUNCTION_TIMEOUT_MS;
  if (options.configuredMs !== undefined && hostTimeout !== undefined && options.configuredMs > hostTimeout) {
    options.log?.(
      `CLEANUP_TIME_BUDGET (${options.configuredMs / 1000} s) is longer than the function timeout ` +
        `(${hostTimeout / 1000} s, from ${hostSource}); using ${hostTimeout / 1000} s`,
    );
    budget = hostTimeout;
  }
  const margin = Math.max(30_000, budget * 0.1);
  const window = budget - margin;
  if (submitWindowMs(window) <= MIN_SUBMIT_WINDOW_MS) {
    // The smallest usable window: the minimum submit time plus the minimum submit margin (1 s).
    const shortest = (30_000 + MIN_SUBMIT_WINDOW_MS + submitMarginFor(0)) / 1000;
    const problem =
      `leaves ${Math.max(0, window) / 1000} s after the ${margin / 1000} s safety margin, too little to ` +
      `submit anything once the run's own submit margin is kept (it must be more than ${shortest} s)`;
    throw options.configuredMs !== undefined
      ? new ConfigError('CLEANUP_TIME_BUDGET', problem, 'environment')
      : new ConfigError('functionTimeout', problem, hostSource);
  }
  return window;
}

/** The app root's host.json, found by walking up from `startDir` (dist/functions/ when deployed, functions/ in tests). */
export function findHostJson(startDir: string): string {
  let dir = startDir;
  for (;;) {
    const candidate = path.join(dir, 'host.json');
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return candidate;
    dir = parent;
  }
}

/**
 * The deadline of a run that a function invocation started at `startedAtMs`: its time budget (from the
 * configuration, cut to the function timeout) from then on. For the timer and the queue-triggered run.
 */
export function invocationDeadline(
  startedAtMs: number,
  functionDir: string,
  warn: (message: string) => void,
): (config: { timeBudgetMs?: number }) => number {
  return (config) =>
    startedAtMs +
    timeBudgetMs({ configuredMs: config.timeBudgetMs, hostJsonPath: findHostJson(functionDir), log: warn });
}
