import pLimit from 'p-limit';
import type { Clock } from '../clock';
import type { SkipReason } from '../report';
import type { Telemetry } from '../telemetry/telemetry';
import type { DeletionSessionListing, VeeamClient } from '../veeam/types';
import { createApplianceBreaker, isBrokenCircuit } from './breaker';
import { asError, failed, neverReachedAppliance } from './outcomes';
import { ResultBook } from './results';
import type { CleanupLogger, CleanupProgress, Following, RunJournal, TargetResult } from './types';

export interface RunContextOptions {
  client: VeeamClient;
  clock: Clock;
  book: ResultBook;
  log: CleanupLogger;
  telemetry?: Telemetry;
  /** Aborted by the caller (signal, lost lease) or by the run's own hard stop after the deadline. */
  signal: AbortSignal;
  /** The caller's own signal, to tell an interruption from the deadline. */
  callerSignal?: AbortSignal;
  deadline?: number;
  submitMarginMs: number;
  concurrency: number;
  maxRunningSessions?: number;
  maxSessionWaitMs: number;
  breakerThreshold?: number;
  statusUrl?: (sessionId: string) => string;
  onProgress?: (progress: CleanupProgress) => void;
  journal?: RunJournal;
  /** Stops the run (a journal write failed). */
  stop: (reason: Error) => void;
}

/**
 * What every step of one run shares: the client, the clock, the limits, the breaker and the result book.
 * It decides whether a new submission may start and why the ones that never did are skipped.
 */
export class RunContext {
  readonly client: VeeamClient;
  readonly clock: Clock;
  readonly log: CleanupLogger;
  readonly telemetry?: Telemetry;
  readonly signal: AbortSignal;
  readonly deadline?: number;
  readonly maxSessionWaitMs: number;
  readonly statusUrl?: (sessionId: string) => string;
  /** Submissions in flight at once: the number of workers of `forEachTarget`. */
  private readonly concurrency: number;
  /** Bounds the deletion sessions this run keeps running at once (no bound when not configured). */
  private readonly running?: pLimit.Limit;
  private readonly breaker;
  private readonly book: ResultBook;
  private readonly callerSignal?: AbortSignal;
  private readonly submitBy?: number;
  private readonly onProgress?: (progress: CleanupProgress) => void;
  private tripped = false;
  private readonly journal?: RunJournal;
  private readonly stop: (reason: Error) => void;
  /** Settlement writes still on their way; each leaves the set when done, so a long run holds no history. */
  private readonly journalWrites = new Set<Promise<void>>();
  private halted = false;
  /** v8.1: the deletion sessions that existed when the run started (running, or within the look-back). */
  runningSessions?: DeletionSessionListing;

  constructor(options: RunContextOptions) {
    this.client = options.client;
    this.clock = options.clock;
    this.log = options.log;
    this.telemetry = options.telemetry;
    this.signal = options.signal;
    this.callerSignal = options.callerSignal;
    this.deadline = options.deadline;
    this.maxSessionWaitMs = options.maxSessionWaitMs;
    this.statusUrl = options.statusUrl;
    this.book = options.book;
    this.onProgress = options.onProgress;
    this.journal = options.journal;
    this.stop = options.stop;
    this.concurrency = options.concurrency;
    this.running = options.maxRunningSessions ? pLimit(options.maxRunningSessions) : undefined;
    this.breaker = createApplianceBreaker({ threshold: options.breakerThreshold });
    this.submitBy = options.deadline === undefined ? undefined : options.deadline - options.submitMarginMs;
  }

  /**
   * Runs the submission phase of every target on `concurrency` workers: a worker takes the next target once
   * its last one was accepted (or failed), and the session follow that a submission returns goes on
   * detached. So a run over 10,000 VMs holds no queue of waiting work, only the sessions it follows.
   */
  async forEachTarget<T>(
    targets: readonly T[],
    submit: (target: T) => Promise<Following | undefined>,
  ): Promise<void> {
    let failure: { error: unknown } | undefined;
    let following = 0;
    let allEnded: (() => void) | undefined;
    // Shared by every follow, so a follow costs one promise reaction and no closures of its own.
    const ended = () => {
      following -= 1;
      if (following === 0) allEnded?.();
    };
    // Handled at once, rethrown at the end: a follow that rejects early must not be an unhandled one.
    const failed = (error: unknown) => {
      failure ??= { error };
      ended();
    };
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const started = await submit(targets[next++]);
        if (!started) continue;
        following += 1;
        void started.done.then(ended, failed);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, targets.length) }, worker));
    if (following > 0) await new Promise<void>((resolve) => (allEnded = resolve));
    if (failure) throw failure.error;
  }

  /**
   * Takes a running-session slot (when a cap is configured) for `work`, which resolves once its delete
   * was answered; the slot is held until the session it started ended.
   */
  async holdingRunningSlot<T>(
    work: () => Promise<Following<T> | undefined>,
  ): Promise<Following<T> | undefined> {
    if (!this.running) return work();
    const release = await new Promise<() => void>((granted) => {
      void this.running!(() => new Promise<void>((released) => granted(released)));
    });
    let following: Following<T> | undefined;
    try {
      following = await work();
    } catch (error) {
      release();
      throw error;
    }
    if (!following) release();
    return following && { done: following.done.finally(release) };
  }

  /** Sessions a delete guard must never adopt as its own answer: they existed before this run. */
  get knownSessionIds(): ReadonlySet<string> | undefined {
    return this.runningSessions?.knownIds;
  }

  now(): number {
    return this.clock.now();
  }

  /** Calls the appliance through the breaker, so consecutive appliance-level failures stop the run. */
  guarded<T>(call: () => Promise<T>): Promise<T> {
    return this.breaker.execute(call);
  }

  canSubmit(): boolean {
    if (this.tripped || this.signal.aborted) return false;
    return this.submitBy === undefined || this.clock.now() < this.submitBy;
  }

  /** Why targets that were never submitted are skipped. */
  stopReason(): SkipReason {
    if (this.tripped) return 'appliance unavailable';
    if (this.interrupted) return 'aborted';
    return 'deadline';
  }

  /** True when the caller interrupted the run (as opposed to its deadline). */
  get interrupted(): boolean {
    return this.halted || this.callerSignal?.aborted === true;
  }

  /**
   * Records a step in the journal and waits for it. A failed write stops the run (another writer took
   * it over, or storage is gone) and rejects, so the delete it guards is not sent.
   */
  async record(write: (journal: RunJournal) => Promise<void>): Promise<void> {
    if (!this.journal) return;
    try {
      await write(this.journal);
    } catch (error) {
      this.log.error(`The run ledger could not be written; stopping the run: ${asError(error).message}`);
      this.halted = true;
      this.stop(asError(error));
      throw error;
    }
  }

  /** Waits for every settled result to be in the journal. */
  async flushJournal(): Promise<void> {
    await Promise.allSettled([...this.journalWrites]);
  }

  /**
   * Settles a target (the first settlement wins). After an interruption, results that only say "unknown"
   * (TimedOut, a delete cut off in flight) are not journaled: the target stays submitted or submitting in the
   * ledger, so the run that resumes it looks for its session instead of trusting this one's guess.
   */
  settle(result: TargetResult, journaled = true): void {
    const recorded = this.book.settle(result);
    if (recorded) {
      const unknown = this.interrupted && (result.outcome === 'TimedOut' || !journaled);
      if (this.journal && !unknown) {
        const write: Promise<void> = this.record((j) => j.settled(recorded))
          .catch(() => {})
          .finally(() => this.journalWrites.delete(write));
        this.journalWrites.add(write);
      }
      this.onProgress?.({
        appliance: this.book.appliance,
        vmId: result.vmId,
        phase: 'settled',
        result: recorded,
        settled: this.book.settledCount,
        total: this.book.size,
      });
    }
  }

  submitted(vmId: string): void {
    this.onProgress?.({
      appliance: this.book.appliance,
      vmId,
      phase: 'submitted',
      settled: this.book.settledCount,
      total: this.book.size,
    });
  }

  isSettled(vmId: string): boolean {
    return this.book.isSettled(vmId);
  }

  /**
   * Settles a target whose request failed. Failures that mean "nothing reached the appliance" leave it open,
   * so it is closed with the run's stop reason (appliance unavailable, deadline, aborted).
   */
  settleError(vmId: string, error: unknown, startedAt: number, attempts: number): void {
    if (isBrokenCircuit(error)) {
      this.markUnavailable();
      return;
    }
    if (this.signal.aborted) {
      if (attempts === 0) return;
      const why = this.interrupted ? 'the run was interrupted' : 'the deadline passed';
      this.settle(
        {
          vmId,
          outcome: 'Failed',
          attempts,
          durationMs: this.now() - startedAt,
          error: `${why} while the delete was in flight; unknown whether it was accepted`,
        },
        !this.interrupted,
      );
      return;
    }
    if (neverReachedAppliance(error)) {
      this.markUnavailable();
      return;
    }
    this.telemetry?.trackException(asError(error), { vmId });
    this.settle(failed(vmId, error, attempts, this.now() - startedAt));
  }

  /** The appliance is gone for this run: nothing more is submitted, open targets end Skipped. */
  markUnavailable(): void {
    if (this.tripped) return;
    this.tripped = true;
    this.log.error(`Appliance ${this.book.appliance} looks unavailable; its remaining VMs are skipped`);
  }
}
