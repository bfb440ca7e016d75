import { randomUUID } from 'node:crypto';
import { systemClock } from '../clock';
import { describeProvenance, invalidateSecretCache, loadConfig, type CleanupConfig } from '../config';
import { parseDuration } from '../config/durations';
import type { Report, Trigger, VmResult } from '../report';
import { acquireRunLease, LeaseHeldError, parseLeaseDuration } from '../runs/lease';
import { Ledger, parseResumeWindow, type RunLedger, type TargetsByState } from '../runs/ledger';
import { tryAcquireRun } from '../runs/localLock';
import { formatTargetRef, parseTargetRef, type RunRequest } from '../runs/request';
import { openRunStorage } from '../runs/openStorage';
import type { RunStorage } from '../runs/storage';
import {
  createTelemetryFromEnv,
  operationFromTraceParent,
  reportToTelemetry,
  withRunContext,
  type Telemetry,
} from '../telemetry';
import { runCleanup } from './runCleanup';
import type { ResumeState, RetentionOverride, RunCleanupOptions, RunJournal } from './types';

/** A run whose delete was sent this long before it was recorded "submitting" is still found (clock skew). */
const RESUME_SKEW_MS = 120_000;

export interface StartRunOptions extends Omit<
  RunCleanupOptions,
  'config' | 'trigger' | 'telemetry' | 'journal' | 'resume' | 'runId'
> {
  trigger: Trigger;
  /** Settings to read (default process.env). */
  env?: Record<string, string | undefined>;
  /** A configuration the caller already loaded (the CLI with its flags). */
  config?: CleanupConfig;
  /**
   * Checked right after the configuration loaded, before the lease: a refusal (e.g. the HTTP allow-list)
   * ends the start with nothing attempted; otherwise what it returns narrows the run (targets, appliance).
   */
  check?: (config: CleanupConfig) => { refusal: unknown } | RunNarrowing | undefined;
  /** The deadline once the configuration is known (the timer's time budget); wins over `deadline`. */
  deadlineFor?: (config: CleanupConfig) => number;
  /** The run row the HTTP trigger created for a background run; its request is what runs. */
  runId?: string;
  /**
   * Where the lease and the ledger live: default the Functions storage settings (AzureWebJobsStorage…);
   * null runs in-process only (no lease, no ledger), as without storage settings.
   */
  storage?: RunStorage | null;
  /** default: App Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set, otherwise `fallbackTelemetry`. */
  telemetry?: Telemetry;
  /** Used when no connection string is set (default: none). */
  fallbackTelemetry?: () => Telemetry;
  /** The invocation's W3C traceparent, so the run's telemetry nests under the host's request. */
  traceParent?: string | null;
  /** Bound on the telemetry flush before returning (default 5 s). */
  flushTimeoutMs?: number;
}

/** What a start's check may narrow the run to. */
export type RunNarrowing = Partial<Pick<RunCleanupOptions, 'targets' | 'appliance'>>;

export type StartRunResult =
  | { status: 'completed'; report: Report }
  /** Another run holds the lease (or the in-process lock); nothing was attempted. */
  | { status: 'busy'; holderRunId: string }
  /** `check` refused the configuration; nothing was attempted. */
  | { status: 'refused'; refusal: unknown }
  /** The background run named by `runId` was already finished (a redelivered message) or closed for good. */
  | { status: 'closed'; runId: string; report?: Report };

/**
 * The one entry of every trigger (timer, HTTP, queue, CLI, demo, benchmark): configuration → lease → ledger
 * (resuming an interrupted run) → engine → report → telemetry, flushed before returning. Configuration and
 * storage errors are recorded and rethrown before anything touches the appliance.
 */
export async function startRun(options: StartRunOptions): Promise<StartRunResult> {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const log = options.logger;
  const startId = options.runId ?? randomUUID();
  const sink = options.telemetry ?? createTelemetryFromEnv(env, options.fallbackTelemetry ?? nullTelemetry);
  const operation = operationFromTraceParent(options.traceParent);
  let telemetry = withRunContext(sink, { runId: startId, trigger: options.trigger, ...operation });
  try {
    const config = options.config ?? (await loadConfig({ env }));
    const checked = options.check?.(config);
    if (checked && 'refusal' in checked) return { status: 'refused', refusal: checked.refusal };
    const narrowing: RunNarrowing = {
      ...(checked?.targets ? { targets: checked.targets } : {}),
      ...(checked?.appliance !== undefined ? { appliance: checked.appliance } : {}),
    };
    const deadline = options.deadlineFor ? options.deadlineFor(config) : options.deadline;
    // A caller that loaded the configuration itself (the CLI) has printed where it came from already.
    if (!options.config) log?.info(`Configuration: ${describeProvenance(config)}`);
    const storage =
      options.storage === undefined ? await openRunStorage(env) : (options.storage ?? undefined);

    const execute = async (runId: string, extra: Partial<RunCleanupOptions> = {}) => {
      telemetry = withRunContext(sink, { runId, trigger: options.trigger, ...operation });
      const report = await runCleanup({
        ...options,
        ...narrowing,
        deadline,
        config,
        trigger: options.trigger,
        telemetry,
        runId,
        ...extra,
      });
      // Rejected credentials may have been rotated in the vault: the next run reads them again.
      if (report.failure?.kind === 'auth') invalidateSecretCache();
      reportToTelemetry(report, telemetry);
      return report;
    };

    if (!storage) {
      const lock = tryAcquireRun(startId);
      if (!lock.acquired) return { status: 'busy', holderRunId: lock.runningRunId };
      try {
        return { status: 'completed', report: await execute(startId) };
      } finally {
        lock.release();
      }
    }

    let lease;
    try {
      lease = await acquireRunLease({
        container: storage.container,
        setting: storage.settings.blob,
        runId: startId,
        clock,
        durationSeconds: parseLeaseDuration(env.CLEANUP_LEASE_DURATION),
      });
    } catch (error) {
      if (error instanceof LeaseHeldError)
        return { status: 'busy', holderRunId: error.holderRunId ?? 'unknown' };
      throw error;
    }
    try {
      const ledger = new Ledger({ table: storage.table, setting: storage.settings.table, clock });
      const opened = await openLedger(
        ledger,
        { ...options, ...narrowing },
        startId,
        parseResumeWindow(env.CLEANUP_RESUME_WINDOW),
        clock.now(),
      );
      for (const closed of opened.closed) {
        log?.warn(`Run ${closed} was older than CLEANUP_RESUME_WINDOW and was closed as interrupted`);
      }
      const { run, resume, request } = opened;
      if (opened.finished) {
        const view = await ledger.getRun(run.runId);
        return { status: 'closed', runId: run.runId, ...(view?.report ? { report: view.report } : {}) };
      }
      if (resume)
        log?.warn(`Resuming run ${run.runId}, interrupted at ${resume.interruptedAt ?? 'an unknown time'}`);
      const abortSignal = options.abortSignal
        ? AbortSignal.any([options.abortSignal, lease.signal])
        : lease.signal;
      const report = await execute(run.runId, {
        ...requestOptions(request),
        abortSignal,
        journal: journalOf(run),
        ...(resume ? { resume } : {}),
      });
      if (lease.signal.aborted) await run.interrupt('lease-lost');
      else if (options.abortSignal?.aborted) await run.interrupt('shutdown');
      else await run.complete(report);
      return { status: 'completed', report };
    } finally {
      await lease.release();
    }
  } catch (error) {
    telemetry.trackException(error instanceof Error ? error : new Error(String(error)));
    throw error;
  } finally {
    await telemetry.flush(options.flushTimeoutMs ?? 5_000);
  }
}

/**
 * A background run opens the row its HTTP trigger wrote; any other start first finishes the newest
 * interrupted run still inside the resume window, and only then starts a fresh one.
 */
async function openLedger(
  ledger: Ledger,
  options: StartRunOptions & RunNarrowing,
  startId: string,
  windowMs: number,
  now: number,
): Promise<{
  run: RunLedger;
  resume?: ResumeState;
  request?: RunRequest;
  closed: string[];
  finished?: boolean;
}> {
  const closed = (await ledger.closeStale({ windowMs, now })).map((c) => c.runId);
  if (options.runId) {
    const { ledger: run, request } = await ledger.openRun(options.runId);
    if (run.run.status === 'completed' || run.run.closedAt) return { run, closed, finished: true };
    const targets = run.targetsByState();
    const started = Object.values(targets).some((list) => list.length > 0);
    if (run.run.status !== 'running' || started) await run.resume();
    return { run, request, closed, ...(started ? { resume: resumeStateOf(run, targets) } : {}) };
  }
  const found = await ledger.findResumable({ windowMs, now });
  if (found) {
    await found.ledger.resume();
    return {
      run: found.ledger,
      request: found.request,
      closed,
      resume: resumeStateOf(found.ledger, found.targets),
    };
  }
  const run = await ledger.createRun({
    runId: startId,
    trigger: options.trigger,
    request: requestOf(options),
  });
  return { run, closed };
}

function resumeStateOf(run: RunLedger, targets: TargetsByState): ResumeState {
  return {
    runId: run.runId,
    ...(run.run.interruptedAt ? { interruptedAt: run.run.interruptedAt } : {}),
    settled: targets.settled.flatMap((t) => (t.result ? [{ ...t.result, appliance: t.appliance }] : [])),
    submitted: targets.submitted.map((t) => ({
      appliance: t.appliance,
      vmId: t.vmId,
      sessionIds: t.sessionIds,
    })),
    submitting: targets.submitting.map((t) => ({
      appliance: t.appliance,
      vmId: t.vmId,
      sinceMs: Date.parse(t.updatedAt) - RESUME_SKEW_MS,
    })),
  };
}

/** What this start asks, recorded so that a resume runs the same request. */
function requestOf(options: StartRunOptions & RunNarrowing): RunRequest {
  const { targets, appliance, dryRun, retention } = options;
  return {
    ...(targets ? { vmIds: targets.map(formatTargetRef) } : {}),
    ...(appliance !== undefined ? { appliance } : {}),
    ...(dryRun !== undefined ? { dryRun } : {}),
    ...(retention?.minAgeMs !== undefined ? { minAge: String(retention.minAgeMs / 1000) } : {}),
    ...(retention?.keepLatest !== undefined ? { keepLatest: retention.keepLatest } : {}),
  };
}

/** What a recorded request (a background or resumed run) asks of the engine. */
function requestOptions(request: RunRequest | undefined): Partial<RunCleanupOptions> {
  if (!request) return {};
  const retention: RetentionOverride = {
    ...(request.minAge !== undefined ? { minAgeMs: parseDuration(request.minAge, 'minAge') } : {}),
    ...(request.keepLatest !== undefined ? { keepLatest: request.keepLatest } : {}),
  };
  return {
    ...(request.vmIds ? { targets: request.vmIds.map(parseTargetRef) } : {}),
    ...(request.appliance !== undefined ? { appliance: request.appliance } : {}),
    ...(request.dryRun !== undefined ? { dryRun: request.dryRun } : {}),
    ...(Object.keys(retention).length > 0 ? { retention } : {}),
  };
}

/** One ledger journal per appliance: its targets are rows `<appliance>|<vmId>` of the run. */
function journalOf(run: RunLedger): (appliance: string) => RunJournal {
  return (appliance) => ({
    // A resumed run's targets are in the ledger already; only new ones are recorded as planned.
    planned: (vmIds) =>
      run.planned(
        vmIds.filter((vmId) => !run.target({ appliance, vmId })).map((vmId) => ({ appliance, vmId })),
      ),
    // A resumed target whose earlier delete was never found is still "submitting": that record stands.
    submitting: async (vmId) => {
      if (run.target({ appliance, vmId })?.state !== 'submitting') await run.submitting({ appliance, vmId });
    },
    submitted: (vmId, sessionIds) => run.submitted({ appliance, vmId }, sessionIds),
    settled: (result: VmResult) => run.settled({ appliance, vmId: result.vmId }, result),
  });
}

function nullTelemetry(): Telemetry {
  return {
    trackEvent: () => {},
    trackMetric: () => {},
    trackException: () => {},
    trackDependency: () => {},
    flush: async () => {},
  };
}
