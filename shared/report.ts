/**
 * The run report: the one contract that the CLI, the HTTP function and telemetry share.
 * Field names and outcome words are part of the product's interface; don't rename them.
 */

export type Trigger = 'timer' | 'http' | 'cli' | 'demo';

export type ApiVersion = 'v1' | 'v8.1';

export type Outcome =
  | 'Succeeded'
  | 'Warning'
  | 'Failed'
  | 'TimedOut'
  | 'Skipped'
  | 'InvalidId'
  | 'WouldDelete'
  /** A policy exclusion matched: the VM got no request beyond the listing. */
  | 'Excluded';

/** One entry of a job session log, as kept in the report (the last 20 on Warning or Error). */
export interface LogEntry {
  time: string;
  status: string;
  message: string;
}

/** What happened to one manual snapshot (restore point) of a VM under retention. */
export type SnapshotAction = 'deleted' | 'kept' | 'immutable' | 'locked' | 'failed' | 'wouldDelete' | 'gone';

/** A manual snapshot (restore point): what a dry run found, or what retention did with it. */
export interface SnapshotInfo {
  id: string;
  pointInTime: string;
  vmName?: string;
  regionName?: string;
  /** Retention only: the decision and its result. */
  action?: SnapshotAction;
  /** Why it was kept, locked or gone (e.g. "younger than P7D", "among the 2 newest"). */
  reason?: string;
  /** The deletion session of this snapshot. */
  sessionId?: string;
  error?: string;
}

/**
 * Why a target was never submitted. `deadline`: the run's time ran out; `aborted`: the run was interrupted
 * (signal, lost lease); `appliance unavailable`: the circuit breaker opened or the appliance could not be used;
 * `retention needs API v8.1`: retention is configured but the appliance only speaks v1.
 */
export type SkipReason = 'deadline' | 'aborted' | 'appliance unavailable' | 'retention needs API v8.1';

export interface VmResult {
  vmId: string;
  /** The name of the appliance this target belongs to ('default' for the single-appliance settings). */
  appliance: string;
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
  /** Skipped only: the typed reason (also the text of `error`). */
  skipReason?: SkipReason;
  /** Something an admin should know that is not an error (e.g. a session of an earlier run was followed). */
  note?: string;
  log?: LogEntry[];
  /** Dry run only: what would be deleted. Absent on v1, which cannot list manual snapshots. */
  snapshots?: SnapshotInfo[];
  /** Excluded only: the policy rule that matched, e.g. `exclude.names "sql-*"`. */
  excludedBy?: string;
  /** HTTP trigger only: where an admin can follow a session that was still running. */
  statusUrl?: string;
  /** Retention only: snapshots deleted (or already gone), kept (young, newest or immutable), and locked. */
  deletedSnapshots?: number;
  keptSnapshots?: number;
  lockedSnapshots?: number;
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
  excluded: number;
}

/** Set when the run could not reach or authenticate to the appliance, so nothing was attempted. */
export interface RunFailure {
  kind: 'unreachable' | 'auth' | 'mfa' | 'tls';
  message: string;
}

/** One appliance of the run: where it is, what it spoke, how its targets ended, and why it failed. */
export interface ApplianceSummary {
  name: string;
  /** scheme://host:port of the appliance. */
  origin: string;
  /** null when the appliance could not be reached. */
  apiVersion: ApiVersion | null;
  totals: Totals;
  /** Set when this appliance could not be reached or refused the login; its targets are Skipped. */
  failure?: RunFailure;
}

export interface Report {
  runId: string;
  trigger: Trigger;
  /**
   * The API generation the run used; null when no appliance could be reached. With several appliances that
   * spoke different generations it is null too: `appliances[]` has each one's.
   */
  apiVersion: ApiVersion | null;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Target ids that appeared more than once in the configuration and were merged. */
  duplicatesRemoved: number;
  totals: Totals;
  results: VmResult[];
  /** One entry per appliance of the run, in policy order. */
  appliances: ApplianceSummary[];
  /** Set when no appliance could be used (every appliance failed); each one's reason is in `appliances[]`. */
  failure?: RunFailure;
  /** Set when this run finished an interrupted one (same runId): how far that one had come. */
  resumedFrom?: { runId: string; settledBefore: number; interruptedAt?: string };
}

const OUTCOME_TOTAL: Record<Outcome, keyof Omit<Totals, 'targets'>> = {
  Succeeded: 'succeeded',
  Warning: 'warning',
  Failed: 'failed',
  TimedOut: 'timedOut',
  Skipped: 'skipped',
  InvalidId: 'invalid',
  WouldDelete: 'wouldDelete',
  Excluded: 'excluded',
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
    excluded: 0,
  };
  for (const r of results) totals[OUTCOME_TOTAL[r.outcome]] += 1;
  return totals;
}

/** Outcomes after which nothing is left for an admin to do. */
export function isCleanOutcome(outcome: Outcome): boolean {
  return (
    outcome === 'Succeeded' || outcome === 'Warning' || outcome === 'WouldDelete' || outcome === 'Excluded'
  );
}
