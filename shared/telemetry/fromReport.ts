import { isCleanOutcome, type Report, type VmResult } from '../report';
import { TELEMETRY_NAMES, type MeasurementName, type PropertyName } from './names';
import type { Telemetry } from './telemetry';

type NamedProperties = Partial<Record<PropertyName, string>>;
type NamedMeasurements = Partial<Record<MeasurementName, number>>;

/**
 * Writes SnapshotCleanup.VmResult per result, SnapshotCleanup.ApplianceCompleted per appliance,
 * SnapshotCleanup.RunCompleted and the metrics. Every event and metric carries `appliance`: the VM's or the
 * appliance's name, and on the run's own event and duration the run's appliances, comma-separated. The
 * per-VM metrics are written per appliance (SnapshotsDeleted only where retention deleted snapshots one by
 * one; the bulk call does not say how many it removed).
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

  for (const appliance of report.appliances) {
    const properties: NamedProperties = {
      ...runProperties,
      appliance: appliance.name,
      applianceOrigin: appliance.origin,
      apiVersion: appliance.apiVersion ?? undefined,
      failureKind: appliance.failure?.kind,
      failureMessage: appliance.failure?.message,
    };
    telemetry.trackEvent(events.applianceCompleted, properties, { ...appliance.totals });
    const results = report.results.filter((r) => r.appliance === appliance.name);
    // "Succeeded" counts every VM left with nothing to do (isCleanOutcome); "Failed" every other VM, so the
    // two always add up to the appliance's targets.
    const clean = results.filter((r) => isCleanOutcome(r.outcome)).length;
    const dimensions: NamedProperties = { ...runProperties, appliance: appliance.name };
    telemetry.trackMetric(metrics.vmsSucceeded, clean, dimensions);
    telemetry.trackMetric(metrics.vmsFailed, results.length - clean, dimensions);
    const perSnapshot = results.filter((r) => r.deletedSnapshots !== undefined);
    if (perSnapshot.length > 0) {
      const deleted = perSnapshot.reduce((sum, r) => sum + (r.deletedSnapshots ?? 0), 0);
      telemetry.trackMetric(metrics.snapshotsDeleted, deleted, dimensions);
    }
  }

  const runWide: NamedProperties = {
    ...runProperties,
    appliance: report.appliances.map((a) => a.name).join(','),
  };
  const runCompleted: NamedProperties = {
    ...runWide,
    failureKind: report.failure?.kind,
    failureMessage: report.failure?.message,
  };
  const runMeasurements: NamedMeasurements = {
    durationMs: report.durationMs,
    duplicatesRemoved: report.duplicatesRemoved,
    ...report.totals,
  };
  telemetry.trackEvent(events.runCompleted, runCompleted, runMeasurements);
  telemetry.trackMetric(metrics.runDurationMs, report.durationMs, runWide);
}

function vmProperties(result: VmResult): NamedProperties {
  const last = result.log?.at(-1);
  return {
    vmId: result.vmId,
    appliance: result.appliance,
    outcome: result.outcome,
    excludedBy: result.excludedBy,
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
