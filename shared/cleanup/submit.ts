import { VeeamApiError } from '../veeam/errors';
import type { DeleteSubmission } from '../veeam/types';
import type { RunContext } from './context';
import { followAndSettle, followBatch, type FollowStart } from './follow';
import { attemptsOf } from './outcomes';
import type { Following } from './types';

/**
 * Deletes every manual snapshot of each VM with the bulk call (no retention), one request per VM. A
 * worker moves on once the appliance accepted a delete; a running-session slot is held until the session
 * ended.
 */
export function deleteVms(run: RunContext, vmIds: readonly string[]): Promise<void> {
  return run.forEachTarget(vmIds, (vmId) => run.holdingRunningSlot(() => submitVm(run, vmId)));
}

async function submitVm(run: RunContext, vmId: string): Promise<Following | undefined> {
  const adopted = followRunning(run, vmId);
  if (adopted) return { done: adopted };
  if (!run.canSubmit()) return undefined;
  const startedAt = run.now();
  run.submitted(vmId);
  if (!(await recordSubmitting(run, [vmId]))) return undefined;
  try {
    const submission = await run.guarded(() =>
      run.client.deleteSnapshots(vmId, { abortSignal: run.signal, knownSessionIds: run.knownSessionIds }),
    );
    return settleSubmission(run, [vmId], submission, startedAt);
  } catch (error) {
    run.settleError(vmId, error, startedAt, attemptsOf(error));
    return undefined;
  }
}

function settleSubmission(
  run: RunContext,
  vmIds: readonly string[],
  submission: DeleteSubmission,
  startedAt: number,
): Following | undefined {
  if (submission.kind === 'nothingToDelete') {
    for (const vmId of vmIds) {
      run.settle({
        vmId,
        outcome: 'Succeeded',
        attempts: submission.attempts,
        durationMs: run.now() - startedAt,
      });
    }
    return undefined;
  }
  const sessionIds = [submission.session.id];
  for (const vmId of vmIds) void run.record((j) => j.submitted(vmId, sessionIds)).catch(() => {});
  const start: FollowStart = { session: submission.session, attempts: submission.attempts, startedAt };
  return {
    done: vmIds.length === 1 ? followAndSettle(run, vmIds[0], start) : followBatch(run, vmIds, start),
  };
}

/** Writes "submitting" before the delete goes out; false when the journal failed and the run stopped. */
export async function recordSubmitting(run: RunContext, vmIds: readonly string[]): Promise<boolean> {
  try {
    await Promise.all(vmIds.map((vmId) => run.record((j) => j.submitting(vmId))));
    return true;
  } catch {
    return false;
  }
}

/**
 * A re-run while an earlier run's deletion session for this VM is still running follows that session
 * instead of sending a second delete (v8.1: the run's one session listing says which are running).
 */
export function followRunning(run: RunContext, vmId: string): Promise<void> | undefined {
  const session = run.runningSessions?.runningFor(vmId);
  if (!session) return undefined;
  run.submitted(vmId);
  const note = `a deletion session (${session.id}) was already running; followed it instead of sending another delete`;
  return followAndSettle(run, vmId, { session, attempts: 0, startedAt: run.now(), note });
}

/** v8.1 batch mode: one request (and one session) per `size` VMs. */
export async function deleteInBatches(
  run: RunContext,
  vmIds: readonly string[],
  size: number,
): Promise<void> {
  const follows: Promise<void>[] = [];
  const fresh: string[] = [];
  for (const vmId of vmIds) {
    const adopted = followRunning(run, vmId);
    if (adopted) follows.push(adopted);
    else fresh.push(vmId);
  }
  const chunks: string[][] = [];
  for (let i = 0; i < fresh.length; i += size) chunks.push(fresh.slice(i, i + size));
  await run.forEachTarget(chunks, (chunk) => run.holdingRunningSlot(() => submitBatch(run, chunk)));
  await Promise.all(follows);
}

async function submitBatch(run: RunContext, chunk: readonly string[]): Promise<Following | undefined> {
  if (!run.canSubmit()) return undefined;
  const startedAt = run.now();
  for (const vmId of chunk) run.submitted(vmId);
  if (!(await recordSubmitting(run, chunk))) return undefined;
  try {
    const submission = await run.guarded(() =>
      run.client.deleteSnapshotsBatch(chunk, {
        abortSignal: run.signal,
        knownSessionIds: run.knownSessionIds,
      }),
    );
    return settleSubmission(run, chunk, submission, startedAt);
  } catch (error) {
    if (error instanceof VeeamApiError && error.status === 404) {
      // One unknown id rejects the whole batch; per-VM deletes give each VM its own answer.
      run.log.warn(`A batch of ${chunk.length} was rejected (404); deleting those VMs one by one`);
      const follows: Promise<void>[] = [];
      for (const vmId of chunk) {
        const following = await submitVm(run, vmId);
        if (following) follows.push(following.done);
      }
      return { done: Promise.all(follows).then(() => undefined) };
    }
    for (const vmId of chunk) run.settleError(vmId, error, startedAt, attemptsOf(error));
    return undefined;
  }
}
