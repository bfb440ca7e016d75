import { ConfigError } from '../errors';
import type { Report } from '../report';
import type { InvocationLike } from '../hosting/invocation';
import { problem, type ProblemResponse } from './problem';

export interface JsonResponse {
  status: number;
  headers: Record<string, string>;
  jsonBody: unknown;
}

/** 200 when every target finished inside the wait; 202 with a Location to follow when some did not. */
export function cleanupResponse(report: Report, requestUrl: string): JsonResponse {
  const stillRunning = report.results.find((r) => r.outcome === 'TimedOut' && r.statusUrl);
  const unfinished = report.results.some(
    (r) => r.outcome === 'TimedOut' || (r.outcome === 'Skipped' && r.error === 'deadline'),
  );
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (stillRunning?.statusUrl) headers.location = new URL(stillRunning.statusUrl, requestUrl).toString();
  return { status: unfinished ? 202 : 200, headers, jsonBody: report };
}

/** A configuration problem is the operator's to fix: 500, naming the setting and never its value. */
export function configProblem(error: unknown, context: InvocationLike): ProblemResponse {
  if (!(error instanceof ConfigError)) throw error;
  context.error(`Configuration error: ${error.message}`);
  return problem(500, error.message, { setting: error.setting });
}
