import { randomUUID } from 'node:crypto';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { startBackgroundRun } from '../shared/admin/backgroundRun';
import {
  bodyTooLarge,
  checkAllowList,
  checkTightensOnly,
  checkWaitLeavesTimeToSubmit,
  DEFAULT_WAIT_SECONDS,
  MAX_BODY_BYTES,
  parseCleanupRequest,
  type CleanupRequest,
} from '../shared/admin/cleanupRequest';
import { problem } from '../shared/admin/problem';
import { backgroundResponse, cleanupResponse, configProblem } from '../shared/admin/responses';
import { startRun } from '../shared/cleanup';
import { submitMarginFor } from '../shared/cleanup/types';
import { loadConfig, type CleanupConfig } from '../shared/config';
import { loggerFor } from '../shared/hosting/invocation';
import { openRunStorage } from '../shared/runs/openStorage';

/**
 * POST /api/cleanup: an admin-started run. With storage configured it runs in the background (queue) and
 * the answer comes within the wait: 200 with the report when done, else 202 with the run's status URL.
 * Without storage it runs in place within the wait (200 done, 202 still running). 502 when the appliance
 * could not be used at all.
 */
export async function runSnapshotCleanup(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  // The wait counts from arrival: reading the body, the Key Vault and the storage all come out of it.
  const arrivedAt = Date.now();
  if (request.method !== 'POST')
    return problem(405, `${request.method} is not allowed; use POST`, {}, { allow: 'POST' });
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY_BYTES) return bodyTooLarge();
  const parsed = parseCleanupRequest(await request.text(), request.headers.get('content-type'));
  if ('problem' in parsed) return parsed.problem;
  const body = parsed.request;
  const refuse = (config: CleanupConfig) =>
    checkAllowList(body.vmIds, config.targets.ids) ?? checkTightensOnly(body, config);

  try {
    const storage = await openRunStorage(process.env);
    if (storage) {
      const refused = refuse(await loadConfig());
      if (refused) return refused;
      const runId = randomUUID();
      const waitMs = (body.waitSeconds ?? DEFAULT_WAIT_SECONDS.background) * 1000;
      const run = await startBackgroundRun({
        storage,
        runId,
        request: runRequestOf(body),
        waitMs: Math.max(0, arrivedAt + waitMs - Date.now()),
      });
      return run.report ? cleanupResponse(run.report, request.url) : backgroundResponse(run, request.url);
    }
    const waitSeconds = body.waitSeconds ?? DEFAULT_WAIT_SECONDS.inPlace;
    const tooShort = checkWaitLeavesTimeToSubmit(waitSeconds);
    if (tooShort) return tooShort;
    const started = await startRun({
      trigger: 'http',
      storage: null,
      check: refuse,
      vmIds: body.vmIds,
      dryRun: body.dryRun,
      retention: { minAgeMs: body.minAgeMs, keepLatest: body.keepLatest },
      deadline: arrivedAt + waitSeconds * 1000,
      submitMarginMs: submitMarginFor(waitSeconds * 1000),
      statusUrl: (sessionId) => `/api/cleanup/sessions/${encodeURIComponent(sessionId)}`,
      traceParent: context.traceContext?.traceParent,
      logger: loggerFor(context),
      // The answer is due within the wait plus the wind-down allowance; telemetry gets a second of it.
      flushTimeoutMs: 1_000,
    });
    if (started.status === 'refused') return started.refusal as HttpResponseInit;
    if (started.status === 'busy') {
      return problem(409, 'A cleanup run is already in progress', { runId: started.holderRunId });
    }
    if (started.status === 'closed') return problem(409, `Run ${started.runId} is closed`);
    return cleanupResponse(started.report, request.url);
  } catch (error) {
    return configProblem(error, context);
  }
}

/** The body's fields as a run request is recorded and queued (minAge in seconds). */
function runRequestOf(body: CleanupRequest) {
  return {
    ...(body.vmIds ? { vmIds: body.vmIds } : {}),
    ...(body.dryRun !== undefined ? { dryRun: body.dryRun } : {}),
    ...(body.minAgeMs !== undefined ? { minAge: String(body.minAgeMs / 1000) } : {}),
    ...(body.keepLatest !== undefined ? { keepLatest: body.keepLatest } : {}),
  };
}

app.http('runSnapshotCleanup', {
  route: 'cleanup',
  // Every method reaches the handler so that a wrong one gets a 405 problem rather than a bare 404.
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  authLevel: 'function',
  handler: runSnapshotCleanup,
});
