/**
 * A generic poller in the manner of @azure/core-lro: it knows nothing about HTTP or Veeam. The adapter
 * supplies one poll step, the delay policy and the final mapping; waits go through the client's shared
 * scheduler instead of a timer per poller.
 */
import type { Scheduler } from './scheduler';

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

export class Poller<TState, TResult, TProgress> implements PollerLike<TResult, TProgress> {
  private listeners?: Set<(progress: TProgress) => void>;
  private result?: Promise<TResult>;
  /** Not before this epoch ms, because the appliance asked for a pause (Retry-After). */
  private notBefore = 0;

  constructor(
    private readonly adapter: PollerAdapter<TState, TResult, TProgress>,
    private state: TState,
  ) {}

  isDone(): boolean {
    return this.adapter.isDone(this.state);
  }

  pollUntilDone(options: { abortSignal?: AbortSignal } = {}): Promise<TResult> {
    this.result ??= this.loop(options.abortSignal).catch((error) => {
      // An aborted or failed wait can be resumed by a later call.
      this.result = undefined;
      throw error;
    });
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

  /** A wait never passes the deadline, and at the deadline the wait ends: a wind-down costs no requests. */
  private dueAt(deadline: number): number {
    const { adapter } = this;
    return Math.min(Math.max(adapter.now() + adapter.nextDelayMs(this.state), this.notBefore), deadline);
  }

  private async loop(abortSignal?: AbortSignal): Promise<TResult> {
    const { adapter } = this;
    let deadline = adapter.deadline(this.state);
    // One closure for every wait of this poller, and only when the scheduler re-asks.
    const replan = adapter.replans ? () => this.dueAt(deadline) : undefined;
    while (!adapter.isDone(this.state)) {
      deadline = adapter.deadline(this.state);
      for (let due = this.dueAt(deadline); due > adapter.now(); due = this.dueAt(deadline)) {
        await adapter.scheduler.waitUntil(due, abortSignal, replan);
      }
      if (adapter.now() >= deadline) return adapter.finish(this.state, 'timedOut', { abortSignal });
      const step = await adapter.poll(this.state, { abortSignal });
      this.state = step.state;
      this.notBefore = step.retryAfterMs ? adapter.now() + step.retryAfterMs : 0;
      if (this.listeners?.size) {
        const progress = adapter.progress(this.state);
        for (const listener of this.listeners) listener(progress);
      }
      if (!step.done && adapter.now() >= deadline) {
        return adapter.finish(this.state, 'timedOut', { abortSignal });
      }
    }
    return adapter.finish(this.state, 'done', { abortSignal });
  }
}
