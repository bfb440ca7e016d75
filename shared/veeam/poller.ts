/**
 * A generic poller in the manner of @azure/core-lro: it knows nothing about HTTP or Veeam. The adapter
 * supplies one poll step, the delay policy and the final mapping; waits go through the client's shared
 * scheduler instead of a timer per poller.
 */
import type { ScheduledTask, Scheduler } from './scheduler';

export interface PollStep<TState> {
  state: TState;
  done: boolean;
  /** The appliance asked to wait at least this long before the next poll. */
  retryAfterMs?: number;
}

/**
 * How to poll one kind of operation. It is stateless (every function takes the operation's state), so one
 * adapter serves every poller of a client: thousands of sessions are followed at once, and closures per
 * poller would be promoted to the old generation for the whole wait.
 */
export interface PollerAdapter<TState, TResult, TProgress> {
  scheduler: Scheduler;
  now(): number;
  /** Epoch ms at which waiting ends with a timeout. */
  deadline(state: TState): number;
  /** Delay before the next poll of a session in `state`. */
  nextDelayMs(state: TState): number;
  /** True when nextDelayMs can change while the poller waits, so the scheduler should keep re-asking it. */
  replans?: boolean;
  poll(state: TState, options: { abortSignal?: AbortSignal }): Promise<PollStep<TState>>;
  finish(
    state: TState,
    outcome: 'done' | 'timedOut',
    options: { abortSignal?: AbortSignal },
  ): Promise<TResult>;
  progress(state: TState): TProgress;
  serialize(state: TState): string;
  isDone(state: TState): boolean;
}

export interface PollerLike<TResult, TProgress> {
  isDone(): boolean;
  pollUntilDone(options?: { abortSignal?: AbortSignal }): Promise<TResult>;
  onProgress(callback: (progress: TProgress) => void): () => void;
  /** The operation's progress now, as the last poll left it. */
  getOperationState(): TProgress;
  serialize(): string;
}

/**
 * Follows one operation without an async frame: the poller is its own scheduler task, so while it waits
 * (most of its life) it costs one scheduler entry and the promise of its result. Thousands are followed at
 * once; a suspended loop and the promise chain of each wait were ~2 KB a session (bench/ANALYSIS.md).
 */
export class Poller<TState, TResult, TProgress> implements PollerLike<TResult, TProgress>, ScheduledTask {
  private listeners?: Set<(progress: TProgress) => void>;
  private result?: Promise<TResult>;
  private resolveResult?: (result: TResult) => void;
  private rejectResult?: (reason: unknown) => void;
  /** Not before this epoch ms, because the appliance asked for a pause (Retry-After). */
  private notBefore = 0;
  private deadline = Infinity;
  /** The signal of the current pollUntilDone (the scheduler drops the wait when it aborts). */
  signal?: AbortSignal;
  readonly replan?: () => number;

  constructor(
    private readonly adapter: PollerAdapter<TState, TResult, TProgress>,
    private state: TState,
  ) {
    // One closure for every wait of this poller, and only when the scheduler re-asks.
    if (adapter.replans) this.replan = () => this.dueAt();
  }

  isDone(): boolean {
    return this.adapter.isDone(this.state);
  }

  pollUntilDone(options: { abortSignal?: AbortSignal } = {}): Promise<TResult> {
    if (!this.result) {
      this.signal = options.abortSignal;
      this.result = new Promise<TResult>((resolve, reject) => {
        this.resolveResult = resolve;
        this.rejectResult = reject;
      });
      this.next();
    }
    return this.result;
  }

  onProgress(callback: (progress: TProgress) => void): () => void {
    (this.listeners ??= new Set()).add(callback);
    return () => this.listeners?.delete(callback);
  }

  getOperationState(): TProgress {
    return this.adapter.progress(this.state);
  }

  serialize(): string {
    return this.adapter.serialize(this.state);
  }

  /** The scheduler's call at the due time: the wait may have moved (replan), so decide again. */
  wake(): void {
    this.next();
  }

  /** Ends the current pollUntilDone with `reason`; a later call can resume (an aborted or failed wait). */
  fail(reason: unknown): void {
    const reject = this.rejectResult;
    this.result = this.resolveResult = this.rejectResult = undefined;
    reject?.(reason);
  }

  /** A wait never passes the deadline, and at the deadline the wait ends: a wind-down costs no requests. */
  private dueAt(): number {
    const { adapter } = this;
    return Math.min(Math.max(adapter.now() + adapter.nextDelayMs(this.state), this.notBefore), this.deadline);
  }

  /** Done, wait, time out or poll: one step of what used to be the poll loop. */
  private next(): void {
    const { adapter } = this;
    try {
      if (adapter.isDone(this.state)) return this.finish('done');
      this.deadline = adapter.deadline(this.state);
      const due = this.dueAt();
      if (due > adapter.now()) return adapter.scheduler.schedule(due, this);
      if (adapter.now() >= this.deadline) return this.finish('timedOut');
      adapter.poll(this.state, { abortSignal: this.signal }).then(
        (step) => this.polled(step),
        (error: unknown) => this.fail(error),
      );
    } catch (error) {
      this.fail(error);
    }
  }

  private polled(step: PollStep<TState>): void {
    const { adapter } = this;
    try {
      this.state = step.state;
      this.notBefore = step.retryAfterMs ? adapter.now() + step.retryAfterMs : 0;
      if (this.listeners?.size) {
        const progress = adapter.progress(this.state);
        for (const listener of this.listeners) listener(progress);
      }
      if (!step.done && adapter.now() >= this.deadline) return this.finish('timedOut');
    } catch (error) {
      return this.fail(error);
    }
    this.next();
  }

  private finish(outcome: 'done' | 'timedOut'): void {
    this.adapter.finish(this.state, outcome, { abortSignal: this.signal }).then(
      (result) => {
        const resolve = this.resolveResult;
        this.resolveResult = this.rejectResult = undefined;
        resolve?.(result);
      },
      (error: unknown) => this.fail(error),
    );
  }
}
