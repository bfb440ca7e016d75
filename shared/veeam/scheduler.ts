/**
 * One timer for every poller of a client: tasks wait in a due-time ordered heap and the single timer is
 * re-armed for the earliest one. Thousands of sessions therefore cost one timer, and their requests go
 * through the transport's global in-flight limit. Tasks whose due time depends on what other sessions
 * teach pass a `replan` function; one sweep every `replanEveryMs` asks them all again, which costs a
 * function call per task instead of a wake-up (a promise, a listener, a heap operation) per task.
 */
import { systemClock, type Clock } from '../clock';
import { createAbortWatch } from './abortWatch';

export interface SchedulerOptions {
  /** How often the due times of waiting tasks with a `replan` function are recomputed (default 250 ms). */
  replanEveryMs?: number;
  /**
   * How many more due tasks may be released now (default: all). The client passes the transport's free
   * request slots: a task released into a full transport would wait there with its whole call chain (a few
   * KB), while here it waits as one small entry. Call `wake` when room opens.
   */
  admit?: () => number;
}

/**
 * What waits: woken at its due time, or failed (aborted, scheduler closed). A poller is its own task, so a
 * wait costs the scheduler one entry and nothing else.
 */
export interface ScheduledTask {
  readonly signal?: AbortSignal;
  /** The due time now (epoch ms), when it can move with what other sessions teach. */
  readonly replan?: () => number;
  wake(): void;
  fail(reason: unknown): void;
}

export interface Scheduler {
  /**
   * Resolves at `dueAt` (epoch ms), or earlier when `replan` later returns an earlier time; rejects with the
   * signal's reason when aborted first.
   */
  waitUntil(dueAt: number, abortSignal?: AbortSignal, replan?: () => number): Promise<void>;
  /** waitUntil without a promise: `task.wake()` at the due time, `task.fail(reason)` instead when aborted. */
  schedule(dueAt: number, task: ScheduledTask): void;
  /** Tasks currently waiting. */
  readonly pending: number;
  /** Room opened (see SchedulerOptions.admit): release the due tasks that it admits. */
  wake(): void;
  /** Rejects every waiting task and stops the timer. */
  close(): void;
}

/**
 * One waiting task. It holds the task and no closures of its own: thousands wait at once for seconds each,
 * so whatever a wait allocates is promoted to the old generation.
 */
interface Entry {
  dueAt: number;
  seq: number;
  task: ScheduledTask;
  cancelled: boolean;
}

export function createScheduler(
  clock: Pick<Clock, 'now' | 'setTimer' | 'clearTimer'> = systemClock,
  options: SchedulerOptions = {},
): Scheduler {
  const replanEveryMs = options.replanEveryMs ?? 250;
  const admit = options.admit ?? (() => Infinity);
  const heap: Entry[] = [];
  let seq = 0;
  let timer: unknown;
  let armedFor = Infinity;
  let live = 0;
  let replannable = 0;
  let sweepTimer: unknown;
  let closed = false;
  const aborts = createAbortWatch<Entry>((entries, reason) => {
    for (const entry of entries) abort(entry, reason);
    arm();
  });

  function unwatch(entry: Entry) {
    if (entry.task.signal) aborts.unwatch(entry.task.signal, entry);
  }

  function abort(entry: Entry, reason: unknown) {
    if (entry.cancelled) return;
    entry.cancelled = true;
    settle(entry);
    entry.task.fail(reason);
  }

  const before = (a: Entry, b: Entry) => a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);

  function push(entry: Entry) {
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  function siftDown(i: number) {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l], heap[m])) m = l;
      if (r < heap.length && before(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  }

  function pop(): Entry | undefined {
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      siftDown(0);
    }
    return top;
  }

  /** Recomputes every replannable due time, restores the heap order once, and releases what is due. */
  function sweep() {
    sweepTimer = undefined;
    let moved = false;
    for (const entry of heap) {
      if (entry.cancelled || !entry.task.replan) continue;
      const dueAt = entry.task.replan();
      if (dueAt !== entry.dueAt) {
        entry.dueAt = dueAt;
        moved = true;
      }
    }
    if (moved) {
      for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
      if (timer !== undefined) clock.clearTimer(timer);
      timer = undefined;
      armedFor = Infinity;
    }
    fire();
  }

  function armSweep() {
    if (replannable > 0 && sweepTimer === undefined && !closed)
      sweepTimer = clock.setTimer(sweep, replanEveryMs);
  }

  function settle(entry: Entry) {
    live--;
    if (entry.task.replan) replannable--;
  }

  function arm() {
    while (heap.length > 0 && heap[0].cancelled) pop();
    const next = heap[0];
    if (!next) {
      if (timer !== undefined) clock.clearTimer(timer);
      timer = undefined;
      armedFor = Infinity;
      return;
    }
    if (timer !== undefined && armedFor <= next.dueAt) return;
    if (timer !== undefined) clock.clearTimer(timer);
    if (next.dueAt <= clock.now() && admit() <= 0) {
      // Due but not admitted: `wake` releases it when room opens; a timer would only spin.
      timer = undefined;
      armedFor = Infinity;
      return;
    }
    armedFor = next.dueAt;
    timer = clock.setTimer(fire, Math.max(0, next.dueAt - clock.now()));
  }

  function fire() {
    if (timer !== undefined) clock.clearTimer(timer);
    timer = undefined;
    armedFor = Infinity;
    const now = clock.now();
    let room = admit();
    while (room > 0 && heap.length > 0 && heap[0].dueAt <= now) {
      const entry = pop()!;
      if (entry.cancelled) continue;
      settle(entry);
      unwatch(entry);
      // A woken task may schedule itself again (for a later time) or start a request; neither touches the
      // entries due now.
      entry.task.wake();
      room--;
    }
    arm();
    armSweep();
  }

  function schedule(dueAt: number, task: ScheduledTask) {
    if (closed) return task.fail(new Error('the poll scheduler is closed'));
    if (task.signal?.aborted) return task.fail(task.signal.reason);
    const entry: Entry = { dueAt, seq: seq++, task, cancelled: false };
    if (task.signal) aborts.watch(task.signal, entry);
    live++;
    if (task.replan) replannable++;
    push(entry);
    arm();
    armSweep();
  }

  return {
    waitUntil(dueAt, abortSignal, replan) {
      return new Promise<void>((resolve, reject) => {
        schedule(dueAt, { signal: abortSignal, replan, wake: resolve, fail: reject });
      });
    },
    schedule,
    get pending() {
      return live;
    },
    wake() {
      if (!closed && heap.length > 0 && heap[0].dueAt <= clock.now()) fire();
    },
    close() {
      closed = true;
      if (timer !== undefined) clock.clearTimer(timer);
      if (sweepTimer !== undefined) clock.clearTimer(sweepTimer);
      timer = undefined;
      sweepTimer = undefined;
      replannable = 0;
      const error = new Error('the poll scheduler is closed');
      for (const entry of heap.splice(0)) {
        if (entry.cancelled) continue;
        entry.cancelled = true;
        unwatch(entry);
        entry.task.fail(error);
      }
      live = 0;
    },
  };
}
