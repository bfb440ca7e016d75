/**
 * No double delete. A delete POST is resent by the retry loop only when the appliance certainly never acted
 * on it. After an ambiguous failure (timeout, reset after send, 502/504, a damaged answer) v8.1 looks for a
 * deletion session of that VM that started since the attempt: found, it is the answer; not found, it
 * looks once more after a short settle time (a request still queued on the appliance may not have started
 * its session yet), and only then, the delete having never taken effect, allows one resend. v1 has no safe check, so it gives up with
 * AmbiguousDeleteError rather than risk a second delete.
 */
import type { ApiProfile } from './api';
import { AmbiguousDeleteError, VeeamApiError, VeeamNetworkError, VeeamProtocolError } from './errors';
import { isCertainlyNotProcessed, type GuardedSend } from './retry';
import { mayConcernVm, parseSessionLog } from './sessionLog';
import type { TransportRequest } from './transport';
import type { DeleteSubmission, JobSession } from './types';
import { jobSessionSchema, pageSchema, parseWire } from './wire';

const sessionPageSchema = pageSchema(jobSessionSchema);

export interface DeleteGuardOptions {
  profile: ApiProfile;
  send: GuardedSend;
  now(): number;
  sleep(ms: number, abortSignal?: AbortSignal): Promise<void>;
  /** How far before the attempt a found session may have started, for clock skew (default 2 min). */
  lookbackMs?: number;
  /** Wait before the second look for a session (default 2 s). */
  settleMs?: number;
}

/** The appliance may have acted on the delete: a 2xx it could not read counts as well. */
export function isAmbiguousDeleteFailure(error: unknown): boolean {
  if (error instanceof VeeamProtocolError) return true;
  if (error instanceof VeeamNetworkError) return !error.notSent;
  return error instanceof VeeamApiError && (error.status === 502 || error.status === 504);
}

/** UTC YYYY-MM-DDTHH:MM:SSZ, the only FromUtc format v8.1 accepts. */
function fromUtc(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export async function submitDelete(
  options: DeleteGuardOptions,
  request: TransportRequest,
  vmIds: readonly string[],
): Promise<DeleteSubmission> {
  let attempts = 0;
  for (let resend = 0; ; resend++) {
    const attemptAt = options.now();
    try {
      const response = await options.send(request, {
        canRetry: isCertainlyNotProcessed,
        onAttempt: () => attempts++,
      });
      if (response.status === 204) return { kind: 'nothingToDelete', attempts };
      return {
        kind: 'session',
        session: parseWire(jobSessionSchema, response.body, request.route),
        attempts,
      };
    } catch (error) {
      if (!isAmbiguousDeleteFailure(error)) throw error;
      if (!options.profile.sessionsPath) throw new AmbiguousDeleteError(vmIds[0], error as Error);
      let found: JobSession | undefined;
      try {
        found = await findDeleteSession(options, vmIds[0], attemptAt, request.abortSignal);
        if (!found) {
          await options.sleep(options.settleMs ?? 2_000, request.abortSignal);
          found = await findDeleteSession(options, vmIds[0], attemptAt, request.abortSignal);
        }
      } catch {
        throw new AmbiguousDeleteError(vmIds[0], error as Error);
      }
      if (found) return { kind: 'session', session: found, attempts };
      // Checked: the failed delete never took effect. One resend; a second ambiguous failure is final.
      if (resend >= 1) throw error;
    }
  }
}

/**
 * The newest deletion session for `vmId` that started since the attempt (less the lookback). The log check
 * guards against an appliance that ignores the ResourceId filter: a session whose log names other VMs only
 * is not ours.
 */
async function findDeleteSession(
  options: DeleteGuardOptions,
  vmId: string,
  attemptAt: number,
  abortSignal?: AbortSignal,
): Promise<JobSession | undefined> {
  const { profile } = options;
  const query = new URLSearchParams();
  for (const type of profile.deleteSessionTypes) query.append('Types', type);
  query.set('ResourceId', vmId);
  query.set('FromUtc', fromUtc(attemptAt - (options.lookbackMs ?? 120_000)));
  query.set('Limit', '20');
  const { body } = await options.send(
    {
      method: 'GET',
      path: `${profile.sessionsPath}?${query}`,
      route: profile.sessionsPath!,
      kind: 'other',
      abortSignal,
    },
    {},
  );
  const candidates = parseWire(sessionPageSchema, body, profile.sessionsPath!).results.sort((a, b) =>
    String(b.executionStartTime ?? '').localeCompare(String(a.executionStartTime ?? '')),
  );
  for (const session of candidates) {
    const id = String(session.id);
    const { body: log } = await options.send(
      {
        method: 'GET',
        path: profile.sessionLogPath(id),
        route: profile.sessionLogRoute,
        kind: 'other',
        abortSignal,
      },
      {},
    );
    if (mayConcernVm(parseSessionLog(log, profile.sessionLogRoute), vmId)) return session;
  }
  return undefined;
}
