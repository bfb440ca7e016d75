import type { Clock } from '../clock';
import type { CleanupConfig } from '../config';
import type { Trigger, VmResult } from '../report';
import type { Telemetry } from '../telemetry/telemetry';
import type { VeeamClientOptions } from '../veeam/types';

export interface CleanupLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A result as the engine's steps build it; the appliance's result book adds `appliance`. */
export type TargetResult = Omit<VmResult, 'appliance'>;

/** One target of a run: a VM id on a named appliance (the same id on two appliances is two targets). */
export interface TargetRef {
  appliance: string;
  vmId: string;
}

export interface CleanupProgress {
  appliance: string;
  vmId: string;
  phase: 'submitted' | 'settled';
  result?: VmResult;
  settled: number;
  total: number;
}

/** Retention for this run; the caller has made sure it is no looser than the configuration. */
export interface RetentionOverride {
  minAgeMs?: number;
  keepLatest?: number;
}

/**
 * Where the engine records each target's progress (the run ledger), so that an interrupted run can be
 * resumed without a second delete. A failed write stops the run: it would no longer know what it sent.
 */
export interface RunJournal {
  planned(vmIds: readonly string[]): Promise<void>;
  /** Awaited before the delete request goes out. */
  submitting(vmId: string): Promise<void>;
  /** Every session id the appliance gave for this target so far. */
  submitted(vmId: string, sessionIds: readonly string[]): Promise<void>;
  settled(result: VmResult): Promise<void>;
}

/** What an interrupted run left behind, target by target. */
export interface ResumeState {
  runId: string;
  interruptedAt?: string;
  /** Left alone: they keep their result. */
  settled: readonly VmResult[];
  /** Their sessions are followed; they are never re-sent. */
  submitted: ReadonlyArray<TargetRef & { sessionIds: readonly string[] }>;
  /** The run stopped while the delete was on its way: looked for before anything is sent. */
  submitting: ReadonlyArray<TargetRef & { sinceMs: number }>;
}

export interface RunCleanupOptions {
  config: CleanupConfig;
  trigger: Trigger;
  /** default: a new UUID */
  runId?: string;
  /**
   * Restricts the run to these targets; the caller has checked them against the configured lists. On an
   * appliance that discovers its targets, a requested VM the listing does not return is reported InvalidId.
   */
  targets?: readonly TargetRef[];
  /** Restricts the run to this appliance (its policy name). */
  appliance?: string;
  /** Overrides config.dryRun. */
  dryRun?: boolean;
  /** Tightens each appliance's retention: the stricter of this and the configured value applies. */
  retention?: RetentionOverride;
  /**
   * Epoch ms. Nothing is submitted once less than submitMarginMs remains; sessions still running end TimedOut
   * at the deadline, and no request is started after deadline + the wind-down allowance.
   */
  deadline?: number;
  /** Time kept free before the deadline (default 10 % of the time to the deadline, between 1 s and 60 s). */
  submitMarginMs?: number;
  /** Stops submitting and polling, like a deadline that arrives now; a report is still returned. */
  abortSignal?: AbortSignal;
  /** default: the system clock */
  clock?: Clock;
  /** Records progress for resume, one journal per appliance (default: none). */
  journal?: (appliance: string) => RunJournal;
  /** Finishes an interrupted run (same runId) instead of starting afresh. */
  resume?: ResumeState;
  /** Where per-request dependencies and exceptions go (default: nowhere). */
  telemetry?: Telemetry;
  /** Client tuning for tests and the benchmark; connection settings always come from `config`. */
  client?: Pick<
    VeeamClientOptions,
    'poll' | 'retry' | 'requestTimeoutMs' | 'maxInFlight' | 'deleteCheckSettleMs'
  >;
  /** Consecutive appliance-level failures that stop the run (default 3). */
  breakerThreshold?: number;
  /** VMs per batch request in v8.1 batch mode (default 100). */
  batchSize?: number;
  /** Builds the status URL of a session that is still running (the HTTP trigger sets it). */
  statusUrl?: (sessionId: string, appliance: string) => string;
  logger?: CleanupLogger;
  onProgress?: (progress: CleanupProgress) => void;
}

export const SILENT_LOGGER: CleanupLogger = { info: () => {}, warn: () => {}, error: () => {} };

/** A run whose submit window is this short or shorter could not submit anything worth the login. */
export const MIN_SUBMIT_WINDOW_MS = 1_000;

/**
 * The time a run keeps free before its deadline, in which it submits nothing: 10 % of the time to the
 * deadline, between 1 s and 60 s. Entry points use it to refuse windows too short to use.
 */
export function submitMarginFor(windowMs: number): number {
  return Math.min(60_000, Math.max(1_000, windowMs * 0.1));
}

/** How long a run with `windowMs` until its deadline can go on submitting deletions. */
export function submitWindowMs(windowMs: number): number {
  return windowMs - submitMarginFor(windowMs);
}

/** How long after the deadline the wind-down may take: 5 % of the run's window, at most 2 s. */
export function windDownAllowanceMs(windowMs: number): number {
  return Math.min(2_000, Math.max(100, windowMs * 0.05));
}

/**
 * A target whose submission was accepted; `done` follows its session to the end. Wrapped in an object so
 * that resolving a submission with it does not wait for the session.
 */
export type Following<T = void> = { done: Promise<T> };
