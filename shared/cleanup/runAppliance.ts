import type { ApplianceConfig } from '../config';
import type { ApiVersion, ApplianceSummary, RunFailure, SkipReason, VmResult } from '../report';
import { computeTotals } from '../report';
import type { Telemetry } from '../telemetry/telemetry';
import { withProperties } from '../telemetry/runContext';
import { dependencyFromRequest } from '../telemetry/fromRequest';
import { createVeeamClient } from '../veeam/client';
import { SESSION_CLOCK_SKEW_MS } from '../veeam/deleteGuard';
import { MfaRequiredError, VeeamAuthError } from '../veeam/errors';
import type { Clock } from '../clock';
import { RunContext } from './context';
import { asError, describeConnectFailure, skipped } from './outcomes';
import { retentionRuleOf } from './plan';
import { cleanByRetention, planOnly } from './points';
import { ResultBook } from './results';
import { resumeTargets } from './resume';
import { selectTargets } from './selectTargets';
import { deleteInBatches, deleteVms } from './submit';
import type { CleanupLogger, ResumeState, RunCleanupOptions } from './types';

/** What the run hands each of its appliances. */
export interface ApplianceRunOptions {
  appliance: ApplianceConfig;
  options: RunCleanupOptions;
  clock: Clock;
  log: CleanupLogger;
  startedAtMs: number;
  dryRun: boolean;
  /** The run's signal: the caller's, and the run's own hard stop. */
  signal: AbortSignal;
  /** True once the hard stop fired: no request may start, logout included. */
  hardStopped: () => boolean;
  submitMarginMs: number;
  /** Stops the whole run (a ledger write failed). */
  stop: (reason: Error) => void;
  /** The run is restricted to these ids of this appliance. */
  requested?: readonly string[];
  /** This appliance's part of an interrupted run. */
  resume?: ResumeState;
  telemetry?: Telemetry;
}

export interface ApplianceRun {
  results: VmResult[];
  summary: ApplianceSummary;
  duplicatesRemoved: number;
}

/**
 * One appliance of a run, start to finish: log in, settle its targets (configured or discovered, less the
 * exclusions), list the deletion sessions already running, execute the plan (bulk per VM, batches, or
 * retention per restore point) with this appliance's own concurrency and breaker, log out. It never throws
 * for appliance or VM problems: an appliance that cannot be used gets its `failure` and its targets Skipped.
 */
export async function runAppliance(run: ApplianceRunOptions): Promise<ApplianceRun> {
  const { appliance, options, clock, log, signal, resume } = run;
  const name = appliance.name;
  const source = appliance.targets;
  const book = new ResultBook(name);
  const explicit = source.kind === 'ids' ? (run.requested ?? source.targets.ids) : [];
  book.add(explicit);
  // What an interrupted run already sent is finished whether or not the target is still configured.
  book.add([...(resume?.submitted ?? []), ...(resume?.submitting ?? [])].map((t) => t.vmId));
  for (const result of resume?.settled ?? []) {
    book.add([result.vmId]);
    book.settle(result);
  }
  const duplicatesRemoved = source.kind === 'ids' && !run.requested ? source.targets.duplicatesRemoved : 0;
  const retention = retentionRuleOf(appliance, options.retention);
  let apiVersion: ApiVersion | null = null;
  let failure: RunFailure | undefined;
  let origin = new URL(appliance.applianceUrl).origin;

  const finish = (fill: SkipReason): ApplianceRun => {
    const results = book.close((vmId) => skipped(vmId, fill));
    return {
      results,
      summary: { name, origin, apiVersion, totals: computeTotals(results), ...(failure ? { failure } : {}) },
      duplicatesRemoved,
    };
  };
  // Invalid ids are reported without a request (and not journaled: a resume finds them invalid again).
  for (const bad of source.kind === 'ids' && !run.requested ? source.targets.invalid : []) {
    book.add([bad.id]);
    book.settle({ vmId: bad.id, outcome: 'InvalidId', attempts: 0, durationMs: 0, error: bad.reason });
  }
  if (source.kind === 'ids' && book.targets.every((vmId) => book.isSettled(vmId))) {
    // Only invalid ids or targets settled by the interrupted run: nothing to send, so no login either.
    return finish('deadline');
  }

  const telemetry = options.telemetry && withProperties(options.telemetry, { appliance: name });
  const client = createVeeamClient({
    ...options.client,
    baseUrl: appliance.applianceUrl,
    username: appliance.username,
    password: appliance.password,
    caCert: appliance.caCert,
    apiVersion: appliance.apiVersion,
    clock,
    onWarning: (message) => log.warn(`${name}: ${message}`),
    onRetry: (info) =>
      log.warn(
        `${name}: retry ${info.retryCount} of ${info.method} ${info.path} in ${info.delayMs} ms (${info.strategy}: ${info.reason})`,
      ),
    onRequest: telemetry
      ? (info) => telemetry.trackDependency(dependencyFromRequest(info, client.origin))
      : undefined,
  });
  origin = client.origin;
  const unusable = (error: unknown, describe: (message: string) => string): ApplianceRun => {
    failure = describeConnectFailure(error);
    failure.message = describe(failure.message);
    log.error(`Could not use appliance ${name}: ${failure.message}`);
    if (!(error instanceof VeeamAuthError || error instanceof MfaRequiredError)) {
      telemetry?.trackException(asError(error));
    }
    return finish('appliance unavailable');
  };

  const statusUrl = options.statusUrl;
  const context = new RunContext({
    client,
    clock,
    book,
    log,
    telemetry,
    signal,
    callerSignal: options.abortSignal,
    deadline: options.deadline,
    submitMarginMs: run.submitMarginMs,
    concurrency: appliance.concurrency,
    maxRunningSessions: appliance.maxRunningSessions,
    maxSessionWaitMs: options.config.maxSessionWaitMs,
    breakerThreshold: options.breakerThreshold,
    ...(statusUrl ? { statusUrl: (sessionId: string) => statusUrl(sessionId, name) } : {}),
    onProgress: options.onProgress,
    journal: options.journal?.(name),
    stop: run.stop,
  });
  const stopped = (): ApplianceRun => finish(context.stopReason());

  try {
    try {
      apiVersion = (await client.connect({ abortSignal: signal })).apiVersion;
      log.info(`Connected to appliance ${name}, API ${apiVersion}`);
    } catch (error) {
      if (signal.aborted) return finish(options.abortSignal?.aborted ? 'aborted' : 'deadline');
      const from = appliance.provenance.applianceUrl;
      return unusable(error, (message) => `${message} (appliance URL from ${from.name}, ${from.source})`);
    }

    let selected;
    try {
      selected = await selectTargets({ appliance, client, requested: run.requested, abortSignal: signal });
    } catch (error) {
      if (signal.aborted) return stopped();
      return unusable(error, (message) => `could not list its VMs: ${message}`);
    }
    const ruledOut = selected.settled.map((r) => r.vmId);
    book.add([...selected.open, ...ruledOut]);
    const ruledOutKeys = new Set(ruledOut);
    const open = book.targets.filter((vmId) => !book.isSettled(vmId) && !ruledOutKeys.has(vmId));

    if (retention && apiVersion === 'v1') {
      log.error(`Appliance ${name}: retention needs API v8.1; the appliance speaks v1 only`);
      for (const result of selected.settled) book.settle(result);
      return finish('retention needs API v8.1');
    }
    if (appliance.batch && (apiVersion === 'v1' || retention)) {
      log.warn(
        apiVersion === 'v1'
          ? `${name}: batch mode needs API v8.1; deleting VM by VM`
          : `${name}: batch mode deletes every manual snapshot, so it is off while retention is set; deleting per snapshot`,
      );
    }

    try {
      await context.record((j) => j.planned([...open, ...ruledOut]));
    } catch {
      return stopped();
    }
    for (const result of selected.settled) context.settle(result);
    if (open.length === 0) {
      await context.flushJournal();
      return stopped();
    }
    if (!run.dryRun && apiVersion === 'v8.1') {
      try {
        context.runningSessions = await client.listDeletionSessions({
          sinceMs: run.startedAtMs - SESSION_CLOCK_SKEW_MS,
          abortSignal: signal,
        });
      } catch (error) {
        if (signal.aborted) return stopped();
        // Without the listing a re-run could send a second delete for a session still running.
        return unusable(error, (message) => `could not list the running deletion sessions: ${message}`);
      }
    }

    const resumed = resume
      ? await resumeTargets(context, resume, apiVersion)
      : { handled: new Set<string>(), following: Promise.resolve() };
    const fresh = open.filter((vmId) => !resumed.handled.has(vmId));
    const startedAtMs = run.startedAtMs;
    if (retention && run.dryRun) {
      await context.forEachTarget(fresh, (vmId) => planOnly(context, vmId, retention, startedAtMs));
    } else if (retention) {
      await context.forEachTarget(fresh, (vmId) => cleanByRetention(context, vmId, retention, startedAtMs));
    } else if (run.dryRun) await context.forEachTarget(fresh, (vmId) => planBulk(context, vmId));
    else if (appliance.batch && apiVersion === 'v8.1') {
      await deleteInBatches(context, fresh, options.batchSize ?? 100);
    } else await deleteVms(context, fresh);
    await resumed.following;
    const result = stopped();
    await context.flushJournal();
    return result;
  } finally {
    // Logging out is one more request; after the hard stop none may start, and the token simply expires.
    if (!run.hardStopped()) await client.logout();
    client.close();
  }
}

/** Dry run without retention: what the bulk call would remove. */
async function planBulk(run: RunContext, vmId: string): Promise<undefined> {
  if (!run.canSubmit()) return undefined;
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
  return undefined;
}
