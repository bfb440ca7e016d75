import { isCleanOutcome, type Report, type VmResult } from '../report';
import { TELEMETRY_NAMES, type MeasurementName, type PropertyName } from './names';
import type { Telemetry } from './telemetry';

type NamedProperties = Partial<Record<PropertyName, string>>;
type NamedMeasurements = Partial<Record<MeasurementName, number>>;

/**
 * Writes SnapshotCleanup.VmResult per result, SnapshotCleanup.RunCompleted and the metrics (SnapshotsDeleted
 * only when retention deleted snapshots one by one; the bulk call does not say how many it removed).
 */
export function reportToTelemetry(report: Report, telemetry: Telemetry): void {
  const { events, metrics } = TELEMETRY_NAMES;
  const runProperties: NamedProperties = {
    runId: report.runId,
    trigger: report.trigger,
    apiVersion: report.apiVersion ?? undefined,
    dryRun: String(report.dryRun),
  };
  for (const result of report.results) {
    telemetry.trackEvent(
      events.vmResult,
      { ...runProperties, ...vmProperties(result) },
      vmMeasurements(result),
    );
  }

  const runCompleted: NamedProperties = {
    ...runProperties,
    failureKind: report.failure?.kind,
    failureMessage: report.failure?.message,
  };
  const { totals } = report;
  const runMeasurements: NamedMeasurements = {
    durationMs: report.durationMs,
    duplicatesRemoved: report.duplicatesRemoved,
    ...totals,
  };
  telemetry.trackEvent(events.runCompleted, runCompleted, runMeasurements);

  // "Succeeded" counts every VM left with nothing to do (isCleanOutcome); "Failed" every other VM, so the
  // two always add up to the number of targets.
  const clean = report.results.filter((r) => isCleanOutcome(r.outcome)).length;
  telemetry.trackMetric(metrics.vmsSucceeded, clean, runProperties);
  telemetry.trackMetric(metrics.vmsFailed, report.results.length - clean, runProperties);
  telemetry.trackMetric(metrics.runDurationMs, report.durationMs, runProperties);
  const perSnapshot = report.results.filter((r) => r.deletedSnapshots !== undefined);
  if (perSnapshot.length > 0) {
    const deleted = perSnapshot.reduce((sum, r) => sum + (r.deletedSnapshots ?? 0), 0);
    telemetry.trackMetric(metrics.snapshotsDeleted, deleted, runProperties);
  }
}

function vmProperties(result: VmResult): NamedProperties {
  const last = result.log?.at(-1);
  return {
    vmId: result.vmId,
    outcome: result.outcome,
    sessionId: result.sessionId,
    sessionStatus: result.sessionStatus,
    error: result.error,
    skipReason: result.skipReason,
    note: result.note,
    lastLogStatus: last?.status,
    lastLogMessage: last?.message,
  };
}

function vmMeasurements(result: VmResult): NamedMeasurements {
  return {
    durationMs: result.durationMs,
    attempts: result.attempts,
    deletedSnapshots: result.deletedSnapshots,
    keptSnapshots: result.keptSnapshots,
    lockedSnapshots: result.lockedSnapshots,
  };
}
