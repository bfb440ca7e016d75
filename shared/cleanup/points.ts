import type { SnapshotInfo } from '../report';
import type { PointDeleteSubmission } from '../veeam/types';
import type { RunContext } from './context';
import { followSession } from './follow';
import { asError, attemptsOf, logOf, neverReachedAppliance } from './outcomes';
import { planRetention, plannedSnapshot, type RetentionPlan } from './plan';
import type { RetentionRule } from './retention';
import type { Following, TargetResult } from './types';
import { followRunning, recordSubmitting } from './submit';
import { isBrokenCircuit } from './breaker';

/** What became of one due snapshot. */
interface PointOutcome {
  snapshot: SnapshotInfo;
  attempts: number;
  /** The session's end was not seen (deadline, maximum wait, outage, interruption). */
  unresolved?: string;
  /** The session ended Warning. */
  warning?: boolean;
  log?: TargetResult['log'];
}

/**
 * Retention for one VM: list its restore points, decide each manual one, and delete the due ones one by one
 * (never the bulk call, which would take the kept ones too). Each delete goes through the delete guard and
 * its session is followed; the VM's outcome sums up its snapshots. Resolves once the due deletes were
 * sent; the VM settles when `done` does.
 */
export async function cleanByRetention(
  run: RunContext,
  vmId: string,
  rule: RetentionRule,
  runStartedAt: number,
): Promise<Following | undefined> {
  const adopted = followRunning(run, vmId);
  if (adopted) return { done: adopted };
  if (!run.canSubmit()) return undefined;
  const startedAt = run.now();
  let plan: RetentionPlan;
  try {
    plan = await planRetention(run, vmId, rule, runStartedAt);
  } catch (error) {
    run.settleError(vmId, error, startedAt, 0);
    return undefined;
  }
  // The listing and the VM's deletes take one worker, one request after the other: a VM that went back to
  // the end of the line between its points would finish long after the rest.
  const sessionIds: string[] = [];
  const outcomes: Array<Promise<PointOutcome | undefined>> = [];
  const due = plan.decisions.filter((d) => d.action === 'delete');
  for (const decision of due) {
    const point = deletePoint(run, vmId, plannedSnapshot(plan, decision), sessionIds);
    outcomes.push(point.outcome);
    if (!(await point.sent)) break;
  }
  const settleVm = (settled: Array<PointOutcome | undefined>) => {
    if (due.length > 0 && settled.every((o) => o === undefined)) return; // nothing sent: the stop reason
    run.settle(retentionResult(plan, settled, run.now() - startedAt, run.statusUrl));
  };
  return { done: Promise.all(outcomes).then(settleVm) };
}

/** The dry run of retention: the plan alone, nothing sent. */
export async function planOnly(
  run: RunContext,
  vmId: string,
  rule: RetentionRule,
  runStartedAt: number,
): Promise<undefined> {
  if (!run.canSubmit()) return undefined;
  const startedAt = run.now();
  try {
    const plan = await planRetention(run, vmId, rule, runStartedAt);
    const snapshots = plan.decisions.map((d) => plannedSnapshot(plan, d));
    run.settle({
      vmId,
      outcome: 'WouldDelete',
      attempts: 0,
      durationMs: run.now() - startedAt,
      snapshots,
      ...countsOf(snapshots),
    });
  } catch (error) {
    run.settleError(vmId, error, startedAt, 0);
  }
  return undefined;
}

/**
 * Deletes one restore point (on the VM's worker) and follows its session. `sent` resolves
 * once the DELETE was answered (false when it was never sent); `outcome` when its session ended (undefined
 * when never sent). The running-session slot is held from before the DELETE until the session ended.
 */
function deletePoint(
  run: RunContext,
  vmId: string,
  planned: SnapshotInfo,
  sessionIds: string[],
): { sent: Promise<boolean>; outcome: Promise<PointOutcome | undefined> } {
  let markSent: (sent: boolean) => void = () => {};
  const sent = new Promise<boolean>((resolve) => (markSent = resolve));
  const outcome = run
    .holdingRunningSlot(async () => {
      const answer = await sendPoint(run, vmId, planned, sessionIds);
      markSent(answer !== undefined);
      if (!answer) return undefined;
      if ('error' in answer) return { done: Promise.resolve(failedPoint(run, planned, answer.error)) };
      return { done: settlePoint(run, planned, answer.submission) };
    })
    .then((following) => following?.done)
    .finally(() => markSent(false));
  return { sent, outcome };
}

/** The DELETE of one restore point, through the delete guard; undefined when it was never sent. */
async function sendPoint(
  run: RunContext,
  vmId: string,
  planned: SnapshotInfo,
  sessionIds: string[],
): Promise<{ submission: PointDeleteSubmission } | { error: unknown } | undefined> {
  if (!run.canSubmit() || !(await recordSubmitting(run, [vmId]))) return undefined;
  run.submitted(vmId);
  try {
    const submission = await run.guarded(() =>
      run.client.deleteRestorePoint(vmId, planned.id, {
        abortSignal: run.signal,
        knownSessionIds: run.knownSessionIds,
      }),
    );
    if (submission.kind === 'session') {
      sessionIds.push(submission.session.id);
      await run.record((j) => j.submitted(vmId, [...sessionIds])).catch(() => {});
    }
    return { submission };
  } catch (error) {
    return { error };
  }
}

async function settlePoint(
  run: RunContext,
  planned: SnapshotInfo,
  submission: PointDeleteSubmission,
): Promise<PointOutcome> {
  const { attempts } = submission;
  if (submission.kind === 'gone') {
    return { snapshot: { ...planned, action: 'gone', reason: 'already deleted' }, attempts };
  }
  if (submission.kind === 'locked') {
    return { snapshot: { ...planned, action: 'locked', reason: submission.message }, attempts };
  }
  const sessionId = submission.session.id;
  const result = await followSession(run, {
    session: submission.session,
    attempts,
    startedAt: run.now(),
  });
  if ('unknown' in result || result.status === 'TimedOut') {
    const why = 'unknown' in result ? result.unknown : 'wait';
    const text =
      why === 'interrupted'
        ? `the run was interrupted while session ${sessionId} was running`
        : why === 'lost'
          ? `lost track of session ${sessionId}; result unknown`
          : `session ${sessionId} was still running when the wait ended`;
    return { snapshot: { ...planned, action: 'failed', sessionId, error: text }, attempts, unresolved: text };
  }
  if (result.status === 'Success' || result.status === 'Warning') {
    return {
      snapshot: { ...planned, action: 'deleted', sessionId },
      attempts,
      warning: result.status === 'Warning',
      ...logOf(result),
    };
  }
  const last = result.log?.[result.log.length - 1]?.message;
  return {
    snapshot: {
      ...planned,
      action: 'failed',
      sessionId,
      error: `session ended ${result.status}${last ? `: ${last}` : ''}`,
    },
    attempts,
    ...logOf(result),
  };
}

/** A delete that failed; undefined when it certainly never reached the appliance. */
function failedPoint(run: RunContext, planned: SnapshotInfo, error: unknown): PointOutcome | undefined {
  if (isBrokenCircuit(error) || neverReachedAppliance(error)) {
    run.markUnavailable();
    return undefined;
  }
  return {
    snapshot: { ...planned, action: 'failed', error: asError(error).message },
    attempts: attemptsOf(error),
  };
}

function countsOf(
  snapshots: readonly SnapshotInfo[],
): Pick<TargetResult, 'deletedSnapshots' | 'keptSnapshots' | 'lockedSnapshots'> {
  const count = (...actions: string[]) => snapshots.filter((s) => actions.includes(s.action ?? '')).length;
  return {
    deletedSnapshots: count('deleted', 'gone'),
    keptSnapshots: count('kept', 'immutable'),
    lockedSnapshots: count('locked'),
  };
}

/** Sums up a VM's snapshots: TimedOut over Failed over Warning over Succeeded. */
function retentionResult(
  plan: RetentionPlan,
  outcomes: ReadonlyArray<PointOutcome | undefined>,
  durationMs: number,
  statusUrl?: (sessionId: string) => string,
): TargetResult {
  const byId = new Map(outcomes.filter((o): o is PointOutcome => !!o).map((o) => [o.snapshot.id, o]));
  const snapshots = plan.decisions.map((d) => {
    const done = byId.get(d.id)?.snapshot;
    if (done) return done;
    const planned = plannedSnapshot(plan, d);
    return d.action === 'delete'
      ? { ...planned, action: 'kept' as const, reason: 'not submitted: the run stopped' }
      : planned;
  });
  const sent = [...byId.values()];
  const unresolved = sent.find((o) => o.unresolved);
  const failedPoints = sent.filter((o) => o.snapshot.action === 'failed' && !o.unresolved);
  const notSent = plan.decisions.filter((d) => d.action === 'delete' && !byId.has(d.id)).length;
  const locked = sent.some((o) => o.snapshot.action === 'locked');
  const warning = sent.some((o) => o.warning);
  const outcome =
    unresolved || notSent > 0
      ? 'TimedOut'
      : failedPoints.length > 0
        ? 'Failed'
        : locked || warning
          ? 'Warning'
          : 'Succeeded';
  const focus = unresolved ?? failedPoints[0] ?? sent.find((o) => o.warning || o.log) ?? sent[0];
  const error =
    outcome === 'TimedOut'
      ? (unresolved?.unresolved ?? `${notSent} due snapshot(s) not submitted before the run stopped`)
      : outcome === 'Failed'
        ? `${failedPoints.length} of ${sent.length} snapshot deletion(s) failed: ${failedPoints[0].snapshot.error}`
        : undefined;
  return {
    vmId: plan.vmId,
    outcome,
    ...(focus?.snapshot.sessionId ? { sessionId: focus.snapshot.sessionId } : {}),
    attempts: sent.reduce((sum, o) => sum + o.attempts, 0),
    durationMs,
    ...(error ? { error } : {}),
    ...(focus?.log ? { log: focus.log } : {}),
    ...(outcome === 'TimedOut' && statusUrl && focus?.snapshot.sessionId
      ? { statusUrl: statusUrl(focus.snapshot.sessionId) }
      : {}),
    snapshots,
    ...countsOf(snapshots),
  };
}
