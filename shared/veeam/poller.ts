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

export interface PollerConfig<TState, TResult, TProgress> {
  state: TState;
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
  serialize(): string;
}

export function createPoller<TState, TResult, TProgress>(
  config: PollerConfig<TState, TResult, TProgress>,
): PollerLike<TResult, TProgress> {
  let state = config.state;
  const listeners = new Set<(progress: TProgress) => void>();
  let resultPromise: Promise<TResult> | undefined;

  async function loop(abortSignal?: AbortSignal): Promise<TResult> {
    let notBefore = 0;
    let deadline = config.deadline(state);
    // A wait never passes the deadline, and at the deadline the wait ends: no last poll, so a run's
    // wind-down costs no requests. One closure for every wait of this poller, not one per wait.
    const dueAt = () => Math.min(Math.max(config.now() + config.nextDelayMs(state), notBefore), deadline);
    const replan = config.replans ? dueAt : undefined;
    while (!config.isDone(state)) {
      deadline = config.deadline(state);
      for (let due = dueAt(); due > config.now(); due = dueAt()) {
        await config.scheduler.waitUntil(due, abortSignal, replan);
      }
      if (config.now() >= deadline) return config.finish(state, 'timedOut', { abortSignal });
      const step = await config.poll(state, { abortSignal });
      state = step.state;
      notBefore = step.retryAfterMs ? config.now() + step.retryAfterMs : 0;
      const progress = config.progress(state);
      for (const listener of listeners) listener(progress);
      if (!step.done && config.now() >= deadline) return config.finish(state, 'timedOut', { abortSignal });
    }
    return config.finish(state, 'done', { abortSignal });
  }

  return {
    isDone: () => config.isDone(state),
    pollUntilDone(options = {}) {
      resultPromise ??= loop(options.abortSignal).catch((error) => {
        // An aborted or failed wait can be resumed by a later call.
        resultPromise = undefined;
        throw error;
      });
      return resultPromise;
    },
    onProgress(callback) {
      listeners.add(callback);
      return () => listeners.delete(callback);
    },
    serialize: () => config.serialize(state),
  };
}
