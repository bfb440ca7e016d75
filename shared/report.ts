/**
 * The run report: the one contract that the CLI, the HTTP function and telemetry share.
 * Field names and outcome words are part of the product's interface; don't rename them.
 */

export type Trigger = 'timer' | 'http' | 'cli' | 'demo';

export type ApiVersion = 'v1' | 'v8.1';

export type Outcome =
  'Succeeded' | 'Warning' | 'Failed' | 'TimedOut' | 'Skipped' | 'InvalidId' | 'WouldDelete';

/** One entry of a job session log, as kept in the report (the last 20 on Warning or Error). */
export interface LogEntry {
  time: string;
  status: string;
  message: string;
}

/** A manual snapshot (restore point) that a dry run found. */
export interface SnapshotInfo {
  id: string;
  pointInTime: string;
  vmName?: string;
  regionName?: string;
}

export interface VmResult {
  vmId: string;
  outcome: Outcome;
  /** The appliance's job session id, when a deletion was submitted. */
  sessionId?: string;
  /** The last status the appliance reported for that session. */
  sessionStatus?: string;
  /** Delete requests sent for this VM (0 when none was sent). */
  attempts: number;
  durationMs: number;
  /** Why the VM failed, was skipped or was rejected; never contains a secret. */
  error?: string;
  log?: LogEntry[];
  /** Dry run only: what would be deleted. Absent on v1, which cannot list manual snapshots. */
  snapshots?: SnapshotInfo[];
  /** HTTP trigger only: where an admin can follow a session that was still running. */
  statusUrl?: string;
}

export interface Totals {
  targets: number;
  succeeded: number;
  warning: number;
  failed: number;
  timedOut: number;
  skipped: number;
  invalid: number;
  wouldDelete: number;
}

/** Set when the run could not reach or authenticate to the appliance, so nothing was attempted. */
export interface RunFailure {
  kind: 'unreachable' | 'auth' | 'mfa' | 'tls';
  message: string;
}

export interface Report {
  runId: string;
  trigger: Trigger;
  /** The API generation the run used; null when the appliance could not be reached. */
  apiVersion: ApiVersion | null;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Target ids that appeared more than once in the configuration and were merged. */
  duplicatesRemoved: number;
  totals: Totals;
  results: VmResult[];
  failure?: RunFailure;
}

const OUTCOME_TOTAL: Record<Outcome, keyof Omit<Totals, 'targets'>> = {
  Succeeded: 'succeeded',
  Warning: 'warning',
  Failed: 'failed',
  TimedOut: 'timedOut',
  Skipped: 'skipped',
  InvalidId: 'invalid',
  WouldDelete: 'wouldDelete',
};

export function computeTotals(results: readonly VmResult[]): Totals {
  const totals: Totals = {
    targets: results.length,
    succeeded: 0,
    warning: 0,
    failed: 0,
    timedOut: 0,
    skipped: 0,
    invalid: 0,
    wouldDelete: 0,
  };
  for (const r of results) totals[OUTCOME_TOTAL[r.outcome]] += 1;
  return totals;
}

/** Outcomes after which nothing is left for an admin to do. */
export function isCleanOutcome(outcome: Outcome): boolean {
  return outcome === 'Succeeded' || outcome === 'Warning' || outcome === 'WouldDelete';
}
