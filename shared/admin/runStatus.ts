import { systemClock, type Clock } from '../clock';
import { displayId } from '../displayId';
import { Ledger, MAX_LIST_RUNS, type RunRecord, type RunView } from '../runs/ledger';
import type { RunStorage } from '../runs/storage';
import { problem, type ProblemResponse } from './problem';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What GET /api/cleanup/runs/{runId} answers: the ledger's view of a run, with its report once completed. */
export interface RunStatus {
  runId: string;
  status: RunRecord['status'];
  trigger: RunRecord['trigger'];
  startedAt: string;
  finishedAt?: string;
  interruptedAt?: string;
  progress: { settled: number; total: number };
  report?: RunView['report'];
}

export function runStatusOf(run: RunRecord | RunView): RunStatus {
  return {
    runId: run.runId,
    status: run.status,
    trigger: run.trigger,
    startedAt: run.startedAt,
    ...(run.finishedAt ? { finishedAt: run.finishedAt } : {}),
    ...(run.interruptedAt ? { interruptedAt: run.interruptedAt } : {}),
    progress: run.progress,
    ...('report' in run && run.report ? { report: run.report } : {}),
  };
}

export type RunStatusAnswer = { status: 200; body: unknown } | ProblemResponse;

/** GET /api/cleanup/runs/{runId}: 400 for an id that is not a UUID, 404 for an unknown run. */
export async function getRunStatus(
  storage: RunStorage,
  runId: string,
  clock: Clock = systemClock,
): Promise<RunStatusAnswer> {
  if (!UUID.test(runId)) {
    return problem(400, `runId ${JSON.stringify(displayId(runId))} is not a UUID`, { field: 'runId' });
  }
  const run = await ledgerOf(storage, clock).getRun(runId);
  if (!run) return problem(404, `No cleanup run ${runId}`, { runId });
  return { status: 200, body: runStatusOf(run) };
}

/** GET /api/cleanup/runs?last=N: the latest runs, newest first (N from 1 to 50, default 10). */
export async function listRunStatuses(
  storage: RunStorage,
  last: string | null,
  clock: Clock = systemClock,
): Promise<RunStatusAnswer> {
  const count = last === null ? 10 : /^\d+$/.test(last) ? Number(last) : NaN;
  if (!Number.isInteger(count) || count < 1 || count > MAX_LIST_RUNS) {
    return problem(400, `last must be a whole number from 1 to ${MAX_LIST_RUNS}`, { field: 'last' });
  }
  const runs = await ledgerOf(storage, clock).listRuns(count);
  return { status: 200, body: { runs: runs.map(runStatusOf) } };
}

function ledgerOf(storage: RunStorage, clock: Clock): Ledger {
  return new Ledger({ table: storage.table, setting: storage.settings.table, clock });
}
