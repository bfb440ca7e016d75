import { randomUUID } from 'node:crypto';
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { startBackgroundRun } from '../shared/admin/backgroundRun';
import {
  bodyTooLarge,
  checkTightensOnly,
  checkWaitLeavesTimeToSubmit,
  DEFAULT_WAIT_SECONDS,
  MAX_BODY_BYTES,
  parseCleanupRequest,
  tightenableOf,
  type CleanupRequest,
} from '../shared/admin/cleanupRequest';
import { isProblem, resolveRequestTargets, type RequestedTargets } from '../shared/admin/requestTargets';
import { problem } from '../shared/admin/problem';
import {
  backgroundResponse,
  cleanupResponse,
  configProblem,
  sessionStatusUrl,
} from '../shared/admin/responses';
import { startRun } from '../shared/cleanup';
import { submitMarginFor } from '../shared/cleanup/types';
import { loadConfig, type CleanupConfig } from '../shared/config';
import { loggerFor } from '../shared/hosting/invocation';
import { openRunStorage } from '../shared/runs/openStorage';
import { formatTargetRef, type RunRequest } from '../shared/runs/request';

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
  // The configured (or discovered) targets are the allow-list, and the body may only tighten the run.
  const admit = (config: CleanupConfig): { refusal: HttpResponseInit } | RequestedTargets => {
    const selected = resolveRequestTargets(body, config);
    if (isProblem(selected)) return { refusal: selected };
    const looser = checkTightensOnly(body, tightenableOf(config, selected.appliances));
    return looser ? { refusal: looser } : selected;
  };

  try {
    const storage = await openRunStorage(process.env);
    if (storage) {
      const admitted = admit(await loadConfig());
      if ('refusal' in admitted) return admitted.refusal;
      const runId = randomUUID();
      const waitMs = (body.waitSeconds ?? DEFAULT_WAIT_SECONDS.background) * 1000;
      const run = await startBackgroundRun({
        storage,
        runId,
        request: runRequestOf(body, admitted),
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
      check: admit,
      dryRun: body.dryRun,
      retention: { minAgeMs: body.minAgeMs, keepLatest: body.keepLatest },
      deadline: arrivedAt + waitSeconds * 1000,
      submitMarginMs: submitMarginFor(waitSeconds * 1000),
      statusUrl: sessionStatusUrl,
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

/** The body's fields as a run request is recorded and queued (targets qualified, minAge in seconds). */
function runRequestOf(body: CleanupRequest, selected: RequestedTargets): RunRequest {
  return {
    ...(selected.targets ? { vmIds: selected.targets.map(formatTargetRef) } : {}),
    ...(selected.appliance !== undefined ? { appliance: selected.appliance } : {}),
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
