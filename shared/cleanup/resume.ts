import type { ApiVersion, Outcome } from '../report';
import type { RunContext } from './context';
import { followSession, resultFor } from './follow';
import type { ResumeState, TargetResult } from './types';

const SEVERITY: Outcome[] = ['TimedOut', 'Failed', 'Warning', 'Succeeded'];

/**
 * Picks up what an interrupted run had sent: its sessions are followed, never re-sent. A target caught
 * between "submitting" and "submitted" is looked for on v8.1 (as the delete guard does) and followed when
 * found; not found, the delete never took effect and it is submitted as usual. v1 cannot look, so such a
 * target fails with "unknown whether the delete was accepted". Resolves with the targets still to submit;
 * the follows run in the background and are awaited through `following`.
 */
export async function resumeTargets(
  run: RunContext,
  state: ResumeState,
  apiVersion: ApiVersion,
): Promise<{ handled: Set<string>; following: Promise<void> }> {
  const handled = new Set<string>();
  const follows: Promise<void>[] = [];
  for (const target of state.submitted) {
    handled.add(target.vmId);
    follows.push(followRecorded(run, target.vmId, target.sessionIds));
  }
  for (const target of state.submitting) {
    if (apiVersion === 'v1') {
      handled.add(target.vmId);
      run.settle({
        vmId: target.vmId,
        outcome: 'Failed',
        attempts: 0,
        durationMs: 0,
        error: 'the run was interrupted while sending the delete; unknown whether the delete was accepted',
      });
      continue;
    }
    const found = await run.client
      .findDeletionSession(target.vmId, { sinceMs: target.sinceMs, abortSignal: run.signal })
      .catch(() => null);
    if (found === undefined) continue; // certainly not accepted: submitted as usual
    handled.add(target.vmId);
    if (found === null) {
      run.settle({
        vmId: target.vmId,
        outcome: 'TimedOut',
        attempts: 0,
        durationMs: 0,
        error:
          'the run was interrupted while sending the delete, and its session could not be looked for; check the appliance',
      });
      continue;
    }
    follows.push(followRecorded(run, target.vmId, [found.id]));
  }
  return { handled, following: Promise.all(follows).then(() => undefined) };
}

/** Follows every recorded session of a target and settles it with the worst of their results. */
async function followRecorded(run: RunContext, vmId: string, sessionIds: readonly string[]): Promise<void> {
  const startedAt = run.now();
  const results: TargetResult[] = await Promise.all(
    sessionIds.map(async (id) => {
      const start = { session: { id, status: 'Running' }, attempts: 0, startedAt };
      return resultFor(run, vmId, start, await followSession(run, start));
    }),
  );
  const worst = [...results].sort((a, b) => SEVERITY.indexOf(a.outcome) - SEVERITY.indexOf(b.outcome))[0];
  const note = `resumed: followed ${sessionIds.length === 1 ? `session ${sessionIds[0]}` : `${sessionIds.length} sessions`} of the interrupted run instead of sending another delete`;
  run.settle({ ...worst, note });
}
