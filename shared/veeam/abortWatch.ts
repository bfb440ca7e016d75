/**
 * One 'abort' listener per signal, however many waiters are on it: a run's one signal is shared by
 * thousands of poll waits and requests, and a listener each would trip Node's MaxListenersExceededWarning
 * and cost an add and a remove per wait. The listener goes once its last waiter is unwatched.
 */
export interface AbortWatch<T> {
  watch(signal: AbortSignal, waiter: T): void;
  unwatch(signal: AbortSignal, waiter: T): void;
}

export function createAbortWatch<T>(
  onAbort: (waiters: readonly T[], reason: unknown) => void,
): AbortWatch<T> {
  const watched = new Map<AbortSignal, { waiters: Set<T>; handler: () => void }>();
  return {
    watch(signal, waiter) {
      let entry = watched.get(signal);
      if (!entry) {
        const waiters = new Set<T>();
        const handler = () => {
          watched.delete(signal);
          onAbort([...waiters], signal.reason);
        };
        entry = { waiters, handler };
        watched.set(signal, entry);
        signal.addEventListener('abort', handler, { once: true });
      }
      entry.waiters.add(waiter);
    },
    unwatch(signal, waiter) {
      const entry = watched.get(signal);
      if (!entry) return;
      entry.waiters.delete(waiter);
      if (entry.waiters.size > 0) return;
      signal.removeEventListener('abort', entry.handler);
      watched.delete(signal);
    },
  };
}
