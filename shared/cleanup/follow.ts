import type { JobSession, SessionPollerLike, SessionResult } from '../veeam/types';
import type { RunContext } from './context';
import { fromSession, timedOut, type SessionFacts } from './outcomes';

export interface FollowStart {
  session: JobSession;
  attempts: number;
  /** When the target's submission started (ms, the run's clock). */
  startedAt: number;
  /** Carried onto the VM's result. */
  note?: string;
}

type FollowResult =
  SessionResult | { unknown: 'interrupted' | 'lost'; sessionId: string; lastStatus: string };

/** What a target's result needs of its start once the session is being polled. */
type FollowFacts = Pick<FollowStart, 'attempts' | 'startedAt' | 'note'>;

/**
 * Polls one session until it ends, the run's deadline or maxSessionWait passes, or the run stops. Resolves
 * with the session's result; an end this run did not see is a TimedOut result (never a rejection), and a
 * session lost to an outage or an interruption is reported as such, with its id, because its result is
 * unknown rather than failed. Thousands are followed at once, so it keeps no frame of its own while the
 * poller waits, and nothing of the delete answer but what the poller took.
 */
export function followSession(run: RunContext, start: FollowStart, vmId?: string): Promise<FollowResult> {
  const poller = pollerFor(run, start, vmId);
  return poller.pollUntilDone({ abortSignal: run.signal }).catch(() => unseenEnd(run, poller));
}

/** Follows a session of one VM and settles that VM: one promise and one closure context per session. */
export function followAndSettle(run: RunContext, vmId: string, start: FollowStart): Promise<void> {
  const facts: FollowFacts = { attempts: start.attempts, startedAt: start.startedAt, note: start.note };
  const poller = pollerFor(run, start);
  return poller.pollUntilDone({ abortSignal: run.signal }).then(
    (result) => run.settle(resultFor(run, vmId, facts, result)),
    () => run.settle(resultFor(run, vmId, facts, unseenEnd(run, poller))),
  );
}

function pollerFor(run: RunContext, start: FollowStart, vmId?: string) {
  return run.client.createSessionPoller(start.session, {
    maxWaitMs: run.maxSessionWaitMs,
    deadline: run.deadline,
    ...(vmId ? { vmId } : {}),
  });
}

/** A wait that ended without the session's end: the run stopped, or the session was lost to an outage. */
function unseenEnd(run: RunContext, poller: Pick<SessionPollerLike, 'getOperationState'>): FollowResult {
  const { sessionId, status: lastStatus } = poller.getOperationState();
  // The run's own hard stop after the deadline ends the wait exactly like the deadline inside the poller.
  if (run.signal.aborted && !run.interrupted) return { sessionId, status: 'TimedOut', lastStatus, polls: 0 };
  return { unknown: run.interrupted ? 'interrupted' : 'lost', sessionId, lastStatus };
}

export function resultFor(run: RunContext, vmId: string, start: FollowFacts, result: FollowResult) {
  const facts: SessionFacts = {
    vmId,
    attempts: start.attempts,
    durationMs: run.now() - start.startedAt,
    statusUrl: run.statusUrl,
  };
  const mapped =
    'unknown' in result
      ? timedOut(result.sessionId, result.lastStatus, result.unknown, facts)
      : fromSession(result, facts);
  return start.note ? { ...mapped, note: start.note } : mapped;
}

/**
 * Follows the one session of a v8.1 batch and settles its VMs. A batch that did not fully succeed is split
 * per VM from the session's log: each VM's own log items decide its outcome.
 */
export async function followBatch(
  run: RunContext,
  vmIds: readonly string[],
  start: FollowStart,
): Promise<void> {
  const result = await followSession(run, start);
  if ('unknown' in result || result.status === 'Success' || result.status === 'TimedOut') {
    for (const vmId of vmIds) run.settle(resultFor(run, vmId, start, result));
    return;
  }
  const perVm = await run.client
    .splitBatchResult(result, vmIds, { abortSignal: run.signal })
    .catch(() => undefined);
  for (const vmId of vmIds) run.settle(resultFor(run, vmId, start, perVm?.get(vmId) ?? result));
}
