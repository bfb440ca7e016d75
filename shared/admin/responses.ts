import { ConfigError } from '../errors';
import type { RunView } from '../runs/ledger';
import type { Report, RunFailure } from '../report';
import type { InvocationLike } from '../hosting/invocation';
import { problem, type ProblemResponse } from './problem';

export interface JsonResponse {
  status: number;
  headers: Record<string, string>;
  jsonBody: unknown;
}

/** Where an admin follows a session that was still running: GET /api/cleanup/sessions/{id}?appliance=… */
export function sessionStatusUrl(sessionId: string, appliance: string): string {
  return `/api/cleanup/sessions/${encodeURIComponent(sessionId)}?appliance=${encodeURIComponent(appliance)}`;
}

/** One problem type per way a run can fail before attempting anything, so automation can tell them apart. */
const FAILURE_PROBLEMS: Record<RunFailure['kind'], { type: string; title: string }> = {
  unreachable: {
    type: 'urn:veeam-snapshot-cleanup:problem:appliance-unreachable',
    title: 'The appliance could not be reached',
  },
  auth: {
    type: 'urn:veeam-snapshot-cleanup:problem:appliance-login-refused',
    title: 'The appliance refused the login',
  },
  mfa: {
    type: 'urn:veeam-snapshot-cleanup:problem:appliance-mfa-required',
    title: 'The appliance account requires MFA',
  },
  tls: {
    type: 'urn:veeam-snapshot-cleanup:problem:appliance-tls-untrusted',
    title: "The appliance's certificate is not trusted",
  },
};

/** 502 naming the failure kind, with the report (every target Skipped) as the `report` member. */
export function failureProblem(failure: RunFailure, report: Report): ProblemResponse {
  return problem(502, `Nothing was attempted: ${failure.message}`, {
    ...FAILURE_PROBLEMS[failure.kind],
    failureKind: failure.kind,
    report,
  });
}

/**
 * 200 when every target finished inside the wait; 202 with a Location to follow when some did not;
 * 502 when the appliance could not be used at all.
 */
export function cleanupResponse(report: Report, requestUrl: string): JsonResponse {
  if (report.failure) return failureProblem(report.failure, report);
  const stillRunning = report.results.find((r) => r.outcome === 'TimedOut' && r.statusUrl);
  const unfinished = report.results.some(
    (r) => r.outcome === 'TimedOut' || (r.outcome === 'Skipped' && r.skipReason === 'deadline'),
  );
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (stillRunning?.statusUrl) headers.location = new URL(stillRunning.statusUrl, requestUrl).toString();
  return { status: unfinished ? 202 : 200, headers, jsonBody: report };
}

/** A background run still going after the wait: 202 with where to follow it. */
export function backgroundResponse(run: RunView, requestUrl: string): JsonResponse {
  const location = new URL(`/api/cleanup/runs/${run.runId}`, requestUrl).toString();
  return {
    status: 202,
    headers: { 'content-type': 'application/json', location },
    jsonBody: { runId: run.runId, status: run.status, progress: run.progress },
  };
}

/** A configuration problem is the operator's to fix: 500, naming the setting and never its value. */
export function configProblem(error: unknown, context: InvocationLike): ProblemResponse {
  if (!(error instanceof ConfigError)) throw error;
  context.error(`Configuration error: ${error.message}`);
  return problem(500, error.message, { setting: error.setting });
}
