import { systemClock, type Clock } from '../clock';
import { Ledger, type RunView } from '../runs/ledger';
import { enqueueRun } from '../runs/queue';
import type { RunRequest } from '../runs/request';
import type { RunStorage } from '../runs/storage';

/** How often the HTTP handler looks whether the background run finished within the wait. */
const POLL_EVERY_MS = 1_000;

export interface BackgroundRunOptions {
  storage: RunStorage;
  runId: string;
  request: RunRequest;
  /** How long to wait for the run before answering. */
  waitMs: number;
  clock?: Clock;
  abortSignal?: AbortSignal;
}

/**
 * Records a background run (its row, with the admin's request), puts it on the queue for the
 * queue-triggered function, and waits up to `waitMs` for it to finish. Resolves with the run as it stands:
 * `completed` with its report, or still `running` (the caller answers 202 with its status URL).
 */
export async function startBackgroundRun(options: BackgroundRunOptions): Promise<RunView> {
  const { storage, runId, request } = options;
  const clock = options.clock ?? systemClock;
  const ledger = new Ledger({ table: storage.table, setting: storage.settings.table, clock });
  const created = await ledger.createRun({ runId, trigger: 'http', request });
  await enqueueRun({ queue: storage.queue, setting: storage.settings.queue, runId, request });
  const until = clock.now() + options.waitMs;
  let view: RunView = { ...created.run };
  while (view.status === 'running' && clock.now() < until) {
    await clock.sleep(Math.min(POLL_EVERY_MS, until - clock.now()), options.abortSignal);
    view = (await ledger.getRun(runId)) ?? view;
  }
  return view;
}

/**
 * A run message the host gave up on (its tries exhausted): the run is closed as interrupted, so it is not
 * left "running" and the next start does not resume a request that keeps failing.
 */
export async function closePoisonedRun(
  storage: RunStorage,
  runId: string,
  clock: Clock = systemClock,
): Promise<void> {
  const ledger = new Ledger({ table: storage.table, setting: storage.settings.table, clock });
  const { ledger: run } = await ledger.openRun(runId);
  if (run.run.status !== 'completed') await run.interrupt('poison');
  await ledger.markClosed(runId);
}
