import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../errors';

/** Consumption plan default (the plan host.json assumes). */
const FALLBACK_FUNCTION_TIMEOUT_MS = 10 * 60_000;

/** host.json's functionTimeout ("hh:mm:ss", or "-1" for unbounded) in ms; undefined when absent or unbounded. */
export function readFunctionTimeoutMs(hostJsonPath: string): number | undefined {
  let raw: unknown;
  try {
    raw = (JSON.parse(readFileSync(hostJsonPath, 'utf8')) as { functionTimeout?: unknown }).functionTimeout;
  } catch {
    return undefined;
  }
  if (typeof raw !== 'string') return undefined;
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})$/.exec(raw.trim());
  if (!match) return undefined;
  const [, days, h, m, s] = match;
  return (((Number(days ?? 0) * 24 + Number(h)) * 60 + Number(m)) * 60 + Number(s)) * 1000;
}

/**
 * How long a timer run may take: the configured CLEANUP_TIME_BUDGET (already validated by the config), else
 * host.json functionTimeout, minus a safety margin (10 %, at least 30 s) so the engine stops and reports
 * before the host kills the invocation.
 */
export function timeBudgetMs(configuredMs: number | undefined, hostJsonPath: string): number {
  const configured = configuredMs ?? readFunctionTimeoutMs(hostJsonPath) ?? FALLBACK_FUNCTION_TIMEOUT_MS;
  const margin = Math.max(30_000, configured * 0.1);
  if (configured <= margin) {
    throw new ConfigError('CLEANUP_TIME_BUDGET', 'leaves no time once the 30 s safety margin is taken off');
  }
  return configured - margin;
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
