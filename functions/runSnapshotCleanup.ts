import { randomUUID } from 'node:crypto';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import {
  bodyTooLarge,
  checkAllowList,
  checkTightensOnly,
  checkWaitLeavesTimeToSubmit,
  MAX_BODY_BYTES,
  parseCleanupRequest,
  submitMarginFor,
} from '../shared/admin/cleanupRequest';
import { problem } from '../shared/admin/problem';
import { cleanupResponse, configProblem } from '../shared/admin/responses';
import { tryAcquireRun } from '../shared/admin/runLock';
import { executeCleanup } from '../shared/cleanup';
import { loadConfig } from '../shared/config';
import { loggerFor } from '../shared/hosting/invocation';

/**
 * POST /api/cleanup: an admin-started run that answers within the requested wait (200 done, 202 still
 * running, 502 when the appliance could not be used).
 */
export async function runSnapshotCleanup(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  // The wait counts from arrival: reading the body and the Key Vault both come out of it.
  const arrivedAt = Date.now();
  if (request.method !== 'POST')
    return problem(405, `${request.method} is not allowed; use POST`, {}, { allow: 'POST' });
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return bodyTooLarge();
  const parsed = parseCleanupRequest(await request.text(), request.headers.get('content-type'));
  if ('problem' in parsed) return parsed.problem;
  const body = parsed.request;
  const tooShort = checkWaitLeavesTimeToSubmit(body.waitSeconds);
  if (tooShort) return tooShort;

  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    return configProblem(error, context);
  }
  const refused = checkAllowList(body.vmIds, config.targets.ids) ?? checkTightensOnly(body, config);
  if (refused) return refused;

  const runId = randomUUID();
  const lock = tryAcquireRun(runId);
  if (!lock.acquired) {
    return problem(409, 'A cleanup run is already in progress on this instance', {
      runId: lock.runningRunId,
    });
  }
  const retention = {
    ...(body.minAgeMs !== undefined ? { minAgeMs: body.minAgeMs } : {}),
    ...(body.keepLatest !== undefined ? { keepLatest: body.keepLatest } : {}),
  };
  try {
    const report = await executeCleanup({
      trigger: 'http',
      runId,
      config,
      vmIds: body.vmIds,
      dryRun: body.dryRun,
      retention,
      deadline: arrivedAt + body.waitSeconds * 1000,
      submitMarginMs: submitMarginFor(body.waitSeconds * 1000),
      statusUrl: (sessionId) => `/api/cleanup/sessions/${encodeURIComponent(sessionId)}`,
      traceParent: context.traceContext?.traceParent,
      logger: loggerFor(context),
    });
    return cleanupResponse(report, request.url);
  } finally {
    lock.release();
  }
}

app.http('runSnapshotCleanup', {
  route: 'cleanup',
  // Every method reaches the handler so that a wrong one gets a 405 problem rather than a bare 404.
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  authLevel: 'function',
  handler: runSnapshotCleanup,
});
