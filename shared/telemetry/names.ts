import type { Outcome } from '../report';

/**
 * Every name this product writes to telemetry. The code emits only these, and the docs name-check test
 * (test/telemetry/docs-names.test.ts) holds the KQL in docs/ to them, so a rename breaks a test rather than
 * an admin's dashboard.
 */
export const TELEMETRY_NAMES = {
  events: {
    vmResult: 'SnapshotCleanup.VmResult',
    runCompleted: 'SnapshotCleanup.RunCompleted',
    applianceCompleted: 'SnapshotCleanup.ApplianceCompleted',
  },
  metrics: {
    vmsSucceeded: 'SnapshotCleanup.VmsSucceeded',
    vmsFailed: 'SnapshotCleanup.VmsFailed',
    runDurationMs: 'SnapshotCleanup.RunDurationMs',
    snapshotsDeleted: 'SnapshotCleanup.SnapshotsDeleted',
  },
  /** customDimensions keys. */
  properties: [
    'runId',
    'trigger',
    'appliance',
    'applianceOrigin',
    'excludedBy',
    'vmId',
    'outcome',
    'sessionId',
    'sessionStatus',
    'apiVersion',
    'dryRun',
    'error',
    'lastLogStatus',
    'lastLogMessage',
    'failureKind',
    'failureMessage',
    'skipReason',
    'note',
    'operationId',
  ],
  /** customMeasurements keys. */
  measurements: [
    'durationMs',
    'attempts',
    'targets',
    'succeeded',
    'warning',
    'failed',
    'timedOut',
    'skipped',
    'invalid',
    'wouldDelete',
    'excluded',
    'duplicatesRemoved',
    'deletedSnapshots',
    'keptSnapshots',
    'lockedSnapshots',
  ],
  /** Outcome words as they appear in customDimensions.outcome. */
  outcomes: ['Succeeded', 'Warning', 'Failed', 'TimedOut', 'Skipped', 'InvalidId', 'WouldDelete', 'Excluded'],
  /**
   * Reserved property keys that withRunContext sets. The App Insights sink turns them into the
   * ai.operation.id / ai.operation.parentId tags (operation_Id in KQL) when they hold a W3C trace id;
   * other sinks keep them as properties.
   */
  context: { operationId: 'operationId', operationParentId: 'operationParentId' },
} as const satisfies {
  outcomes: readonly Outcome[];
  [key: string]: unknown;
};

export type PropertyName = (typeof TELEMETRY_NAMES.properties)[number];
export type MeasurementName = (typeof TELEMETRY_NAMES.measurements)[number];

// Fails to compile when report.ts gains an outcome that TELEMETRY_NAMES.outcomes lacks.
type MissingOutcome = Exclude<Outcome, (typeof TELEMETRY_NAMES.outcomes)[number]>;
const allOutcomesListed: [MissingOutcome] extends [never] ? true : MissingOutcome = true;
void allOutcomesListed;
