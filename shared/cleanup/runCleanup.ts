import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { systemClock } from '../clock';
import type { ApplianceConfig } from '../config';
import type { ApiVersion, Report, RunFailure } from '../report';
import { assembleReport } from './results';
import { runAppliance, type ApplianceRun } from './runAppliance';
import {
  submitMarginFor,
  SILENT_LOGGER,
  windDownAllowanceMs,
  type ResumeState,
  type RunCleanupOptions,
} from './types';

/**
 * One cleanup run, start to finish: every appliance of the configuration (or the one the caller names) runs
 * concurrently with its own client, token, limits and breaker, and the run returns one report in which each
 * (appliance, VM) appears exactly once. It never throws for appliance or VM problems; those end up in the
 * report, and an appliance that cannot be used does not stop the others.
 */
export async function runCleanup(options: RunCleanupOptions): Promise<Report> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const log = options.logger ?? SILENT_LOGGER;
  const startedAtMs = clock.now();
  const runId = options.runId ?? randomUUID();
  const appliances = options.appliance
    ? config.appliances.filter((a) => a.name === options.appliance)
    : config.appliances;

  // The run's own hard stop: nothing may start after the deadline plus a small wind-down allowance.
  const stop = new AbortController();
  const signal = options.abortSignal ? AbortSignal.any([options.abortSignal, stop.signal]) : stop.signal;
  // Every request, retry wait and settle wait of the run listens on this one signal, each listener removed when
  // its wait ends: dozens at once are the design, not the leak Node warns about from the 11th.
  setMaxListeners(0, signal);
  const window = options.deadline === undefined ? 0 : Math.max(0, options.deadline - startedAtMs);
  const hardStop =
    options.deadline === undefined
      ? undefined
      : clock.setTimer(
          () => stop.abort(new Error('the run reached its deadline')),
          options.deadline + windDownAllowanceMs(window) - startedAtMs,
        );

  let runs: ApplianceRun[];
  try {
    runs = await Promise.all(
      appliances.map((appliance) =>
        runAppliance({
          appliance,
          options: { ...options, runId },
          clock,
          log,
          startedAtMs,
          dryRun: options.dryRun ?? config.dryRun,
          signal,
          hardStopped: () => stop.signal.aborted,
          submitMarginMs: options.submitMarginMs ?? submitMarginFor(window),
          stop: (reason) => stop.abort(reason),
          ...requestedOn(appliance, options),
          ...(options.resume ? { resume: resumeOn(appliance, options.resume) } : {}),
        }),
      ),
    );
  } finally {
    if (hardStop !== undefined) clock.clearTimer(hardStop);
  }

  const summaries = runs.map((r) => r.summary);
  const versions = new Set(summaries.flatMap((s) => (s.apiVersion ? [s.apiVersion] : [])));
  const failure = runFailureOf(runs);
  return assembleReport(
    {
      runId,
      trigger: options.trigger,
      apiVersion: versions.size === 1 ? ([...versions][0] as ApiVersion) : null,
      dryRun: options.dryRun ?? config.dryRun,
      startedAt: new Date(startedAtMs).toISOString(),
      duplicatesRemoved: runs.reduce((sum, r) => sum + r.duplicatesRemoved, 0),
      appliances: summaries,
      ...(failure ? { failure } : {}),
      ...(options.resume
        ? {
            resumedFrom: {
              runId: options.resume.runId,
              settledBefore: options.resume.settled.length,
              ...(options.resume.interruptedAt ? { interruptedAt: options.resume.interruptedAt } : {}),
            },
          }
        : {}),
    },
    runs.flatMap((r) => r.results),
    clock.now(),
  );
}

/** The run failed as a whole only when every appliance did; one appliance's failure is that failure. */
function runFailureOf(runs: readonly ApplianceRun[]): RunFailure | undefined {
  const failed = runs.flatMap((r) =>
    r.summary.failure ? [{ name: r.summary.name, ...r.summary.failure }] : [],
  );
  if (failed.length === 0 || failed.length < runs.length) return undefined;
  if (failed.length === 1) return { kind: failed[0].kind, message: failed[0].message };
  const kinds = new Set(failed.map((f) => f.kind));
  return {
    kind: kinds.size === 1 ? failed[0].kind : 'unreachable',
    message: `no appliance could be used: ${failed.map((f) => `${f.name}: ${f.message}`).join('; ')}`,
  };
}

/** The caller's restriction to some targets, as ids of this appliance. */
function requestedOn(
  appliance: ApplianceConfig,
  options: RunCleanupOptions,
): { requested?: readonly string[] } {
  if (!options.targets) return {};
  return { requested: options.targets.filter((t) => t.appliance === appliance.name).map((t) => t.vmId) };
}

/** This appliance's share of an interrupted run. */
function resumeOn(appliance: ApplianceConfig, state: ResumeState): ResumeState {
  const mine = <T extends { appliance: string }>(list: readonly T[]) =>
    list.filter((t) => t.appliance === appliance.name);
  return {
    ...state,
    settled: mine(state.settled),
    submitted: mine(state.submitted),
    submitting: mine(state.submitting),
  };
}
