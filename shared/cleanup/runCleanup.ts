import { randomUUID } from 'node:crypto';
import { systemClock } from '../clock';
import type { ApiVersion, Report, SkipReason } from '../report';
import { dependencyFromRequest } from '../telemetry/fromRequest';
import { createVeeamClient } from '../veeam/client';
import { SESSION_CLOCK_SKEW_MS } from '../veeam/deleteGuard';
import { MfaRequiredError, VeeamAuthError } from '../veeam/errors';
import type { VeeamClient } from '../veeam/types';
import { RunContext } from './context';
import { asError, describeConnectFailure, skipped } from './outcomes';
import { retentionRuleOf } from './plan';
import { resumeTargets } from './resume';
import { cleanByRetention, planOnly } from './points';
import { assembleReport, ResultBook } from './results';
import { deleteInBatches, deleteVm } from './submit';
import { submitMarginFor, SILENT_LOGGER, windDownAllowanceMs, type RunCleanupOptions } from './types';

/**
 * One cleanup run, start to finish: log in once, list the deletion sessions already running, execute the
 * plan (bulk per VM, batches, or retention per restore point) with bounded concurrency, follow every session
 * through the client's shared poller, log out, and return a report in which each target appears exactly
 * once. It never throws for appliance or VM problems; those end up in the report.
 */
export async function runCleanup(options: RunCleanupOptions): Promise<Report> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? SILENT_LOGGER;
  const startedAtMs = clock.now();
  const dryRun = options.dryRun ?? config.dryRun;
  const retention = retentionRuleOf(config, options.retention);
  const targetIds = options.vmIds ? [...options.vmIds] : config.targets.ids;
  const invalid = options.vmIds ? [] : config.targets.invalid;
  const book = new ResultBook([...targetIds, ...invalid.map((i) => i.id)]);
  // What an interrupted run already finished keeps its result and is not journaled again.
  for (const result of options.resume?.settled ?? []) book.settle(result);

  const base = {
    runId: options.runId ?? randomUUID(),
    trigger: options.trigger,
    apiVersion: null as ApiVersion | null,
    dryRun,
    startedAt: new Date(startedAtMs).toISOString(),
    duplicatesRemoved: options.vmIds ? 0 : config.targets.duplicatesRemoved,
    ...(options.resume
      ? {
          resumedFrom: {
            runId: options.resume.runId,
            settledBefore: options.resume.settled.length,
            ...(options.resume.interruptedAt ? { interruptedAt: options.resume.interruptedAt } : {}),
          },
        }
      : {}),
  };
  const finish = (fill: SkipReason, failure?: Report['failure']): Report => {
    const results = book.close((vmId) => skipped(vmId, fill));
    return assembleReport({ ...base, ...(failure ? { failure } : {}) }, results, clock.now());
  };

  // The run's own hard stop: nothing may start after the deadline plus a small wind-down allowance.
  const stop = new AbortController();
  const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, stop.signal]) : stop.signal;
  const window = options.deadline === undefined ? 0 : Math.max(0, options.deadline - startedAtMs);
  const hardStop =
    options.deadline === undefined
      ? undefined
      : clock.setTimer(
          () => stop.abort(new Error('the run reached its deadline')),
          options.deadline + windDownAllowanceMs(window) - startedAtMs,
        );

  const run = (client: VeeamClient) =>
    new RunContext({
      client,
      clock,
      book,
      log,
      telemetry: options.telemetry,
      signal,
      callerSignal: options.abortSignal,
      deadline: options.deadline,
      submitMarginMs: options.submitMarginMs ?? submitMarginFor(window),
      concurrency: config.concurrency,
      maxRunningSessions: config.maxRunningSessions,
      maxSessionWaitMs: config.maxSessionWaitMs,
      breakerThreshold: options.breakerThreshold,
      statusUrl: options.statusUrl,
      onProgress: options.onProgress,
      journal: options.journal,
      stop: (reason) => stop.abort(reason),
    });

  for (const bad of invalid) {
    book.settle({ vmId: bad.id, outcome: 'InvalidId', attempts: 0, durationMs: 0, error: bad.reason });
  }
  const open = targetIds.filter((vmId) => !book.isSettled(vmId));
  // Only invalid ids or targets settled by the interrupted run: nothing to send, so no login either.
  if (open.length === 0) {
    if (hardStop !== undefined) clock.clearTimer(hardStop);
    return finish('deadline');
  }

  const telemetry = options.telemetry;
  const client = createVeeamClient({
    ...options.client,
    baseUrl: config.applianceUrl,
    username: config.username,
    password: config.password,
    caCert: config.caCert,
    apiVersion: config.apiVersion,
    clock,
    onWarning: (message) => log.warn(message),
    onRetry: (info) =>
      log.warn(
        `Retry ${info.retryCount} of ${info.method} ${info.path} in ${info.delayMs} ms (${info.strategy}: ${info.reason})`,
      ),
    onRequest: telemetry
      ? (info) => telemetry.trackDependency(dependencyFromRequest(info, client.origin))
      : undefined,
  });

  try {
    try {
      base.apiVersion = (await client.connect({ abortSignal: signal })).apiVersion;
      log.info(`Connected to the appliance, API ${base.apiVersion}`);
    } catch (error) {
      if (signal.aborted) return finish(options.abortSignal?.aborted ? 'aborted' : 'deadline');
      const failure = describeConnectFailure(error);
      const origin = config.provenance.applianceUrl;
      failure.message = `${failure.message} (appliance URL from ${origin.name}, ${origin.source})`;
      log.error(`Could not use the appliance: ${failure.message}`);
      if (!(error instanceof VeeamAuthError || error instanceof MfaRequiredError)) {
        telemetry?.trackException(asError(error), { runId: base.runId });
      }
      return finish('appliance unavailable', failure);
    }

    if (retention && base.apiVersion === 'v1') {
      log.error(
        'Retention (CLEANUP_MIN_AGE / CLEANUP_KEEP_LATEST) needs API v8.1; the appliance speaks v1 only',
      );
      return finish('retention needs API v8.1');
    }
    if (config.batch && (base.apiVersion === 'v1' || retention)) {
      log.warn(
        base.apiVersion === 'v1'
          ? 'Batch mode needs API v8.1; deleting VM by VM'
          : 'Batch mode deletes every manual snapshot, so it is off while retention is set; deleting per snapshot',
      );
    }

    const context = run(client);
    try {
      await context.record((j) => j.planned(open));
    } catch {
      return finish(context.stopReason());
    }
    if (!dryRun && base.apiVersion === 'v8.1') {
      try {
        context.runningSessions = await client.listDeletionSessions({
          sinceMs: startedAtMs - SESSION_CLOCK_SKEW_MS,
          abortSignal: signal,
        });
      } catch (error) {
        if (signal.aborted) return finish(context.stopReason());
        // Without the listing a re-run could send a second delete for a session still running.
        const failure = describeConnectFailure(error);
        failure.message = `could not list the running deletion sessions: ${failure.message}`;
        log.error(failure.message);
        return finish('appliance unavailable', failure);
      }
    }

    const resumed = options.resume
      ? await resumeTargets(context, options.resume, base.apiVersion)
      : { handled: new Set<string>(), following: Promise.resolve() };
    const fresh = open.filter((vmId) => !resumed.handled.has(vmId));
    const each = (work: (vmId: string) => Promise<void>) => Promise.all(fresh.map(work));
    if (retention && dryRun) await each((vmId) => planOnly(context, vmId, retention, startedAtMs));
    else if (retention) await each((vmId) => cleanByRetention(context, vmId, retention, startedAtMs));
    else if (dryRun) await each((vmId) => planBulk(context, vmId));
    else if (config.batch && base.apiVersion === 'v8.1') {
      await deleteInBatches(context, fresh, options.batchSize ?? 100);
    } else await each((vmId) => deleteVm(context, vmId));
    await resumed.following;
    const report = finish(context.stopReason());
    await context.flushJournal();
    return report;
  } finally {
    if (hardStop !== undefined) clock.clearTimer(hardStop);
    // Logging out is one more request; after the hard stop none may start, and the token simply expires.
    if (!stop.signal.aborted) await client.logout();
    client.close();
  }
}

/** Dry run without retention: what the bulk call would remove. */
async function planBulk(run: RunContext, vmId: string): Promise<void> {
  await run.submitSlot(async () => {
    if (!run.canSubmit()) return;
    const startedAt = run.now();
    try {
      const plan = await run.guarded(() => run.client.planDeletion(vmId, { abortSignal: run.signal }));
      run.settle({
        vmId,
        outcome: 'WouldDelete',
        attempts: 0,
        durationMs: run.now() - startedAt,
        ...(plan.snapshots ? { snapshots: plan.snapshots } : {}),
      });
    } catch (error) {
      run.settleError(vmId, error, startedAt, 0);
    }
  });
}
