/**
 * No double delete, and no adopted stranger. A delete is resent by the retry loop only when the appliance
 * certainly never acted on it. After an ambiguous failure (timeout, reset after send, 502/504, a 2xx it
 * could not read) v8.1 looks for the deletion session of that VM that this attempt started: found, it is
 * the answer; not found, it looks once more after a short settle time (a request still queued on the
 * appliance may not have started its session yet), and only then allows one resend, unless the attempt
 * timed out (here or at a gateway, 504): then the appliance may still be working through it, no look can
 * rule out that it acts later, and the delete ends with AmbiguousDeleteError; the next run's session
 * listing finds its session if it started. v1 has no safe check, so it gives up with AmbiguousDeleteError
 * rather than risk a second delete.
 *
 * A session counts as this attempt's only when the appliance started it after the attempt (less a small
 * clock-skew allowance), it is not one the run already knew before submitting (`knownSessionIds`, from
 * the run's listing), and this client has not created or adopted it for another delete (`claimed`). So a
 * re-run never takes an earlier run's session for its own.
 */
import type { Clock } from '../clock';
import type { ApiProfile } from './api';
import { AmbiguousDeleteError, VeeamApiError, VeeamNetworkError, VeeamProtocolError } from './errors';
import { isCertainlyNotProcessed, type GuardedSend } from './retry';
import { mayConcernVm, parseSessionLog } from './sessionLog';
import type { TransportRequest, TransportResponse } from './transport';
import type { JobSession } from './types';
import { jobSessionSchema, pageSchema, parseWire } from './wire';

const sessionPageSchema = pageSchema(jobSessionSchema);

/**
 * How much earlier than the attempt (by this host's clock) the appliance may stamp the session it started.
 * Runs list the deletion sessions that started since their own start less this much (see
 * listDeletionSessions), so every session an earlier run left in this window is known, never adopted.
 */
export const SESSION_CLOCK_SKEW_MS = 30_000;

export interface DeleteGuardOptions {
  profile: ApiProfile;
  send: GuardedSend;
  clock: Pick<Clock, 'now' | 'sleep'>;
  /** Sessions this client created or adopted; an adopted session joins it. */
  claimed: Set<string>;
  /** Wait before the second look for a session (default 2 s). */
  settleMs?: number;
}

export interface GuardedDelete<T> {
  request: TransportRequest;
  /** The VM the request deletes for (the first of a batch): its sessions are the candidates. */
  vmId: string;
  /** Deletion sessions that existed before this run submitted anything; never adopted. */
  knownSessionIds?: ReadonlySet<string>;
  /** Maps the appliance's answer; a VeeamProtocolError thrown here counts as ambiguous. */
  read(response: TransportResponse, attempts: number): T;
  /** The result when the attempt's session was found instead of an answer. */
  adopted(session: JobSession, attempts: number): T;
  /** Maps a final (non-ambiguous) error, e.g. 404/423 on a point delete; rethrows the rest. */
  failed?(error: unknown, attempts: number): T;
}

/** The appliance may have acted on the delete: a 2xx it could not read counts as well. */
export function isAmbiguousDeleteFailure(error: unknown): boolean {
  if (error instanceof VeeamProtocolError) return true;
  if (error instanceof VeeamNetworkError) return !error.notSent;
  return error instanceof VeeamApiError && (error.status === 502 || error.status === 504);
}

/** The request may still be queued at the appliance: it was cut off while waiting for the answer. */
function mayStillBeProcessed(error: unknown): boolean {
  if (error instanceof VeeamNetworkError) return error.code === 'ETIMEDOUT';
  return error instanceof VeeamApiError && error.status === 504;
}

/** UTC YYYY-MM-DDTHH:MM:SSZ, the only FromUtc format v8.1 accepts. */
export function fromUtc(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export async function submitDelete<T>(options: DeleteGuardOptions, target: GuardedDelete<T>): Promise<T> {
  let attempts = 0;
  const { request } = target;
  for (let resend = 0; ; resend++) {
    const attemptAt = options.clock.now();
    try {
      const response = await options.send(request, {
        canRetry: isCertainlyNotProcessed,
        onAttempt: () => attempts++,
      });
      return target.read(response, attempts);
    } catch (error) {
      if (!isAmbiguousDeleteFailure(error)) {
        if (target.failed) return target.failed(error, attempts);
        throw error;
      }
      if (!options.profile.sessionsPath) throw new AmbiguousDeleteError(target.vmId, error as Error);
      let found: JobSession | undefined;
      try {
        const look = {
          ...target,
          sinceMs: attemptAt - SESSION_CLOCK_SKEW_MS,
          abortSignal: request.abortSignal,
        };
        found = await findDeletionSession(options, look);
        if (!found) {
          await options.clock.sleep(options.settleMs ?? 2_000, request.abortSignal);
          found = await findDeletionSession(options, look);
        }
      } catch {
        throw new AmbiguousDeleteError(target.vmId, error as Error);
      }
      if (found) {
        options.claimed.add(found.id);
        return target.adopted(found, attempts);
      }
      if (mayStillBeProcessed(error)) throw new AmbiguousDeleteError(target.vmId, error as Error);
      // Checked: the failed delete never took effect. One resend; a second ambiguous failure is final.
      if (resend >= 1) throw error;
    }
  }
}

export interface DeletionSessionLook {
  vmId: string;
  /** Epoch ms: only a session the appliance started at or after this counts. */
  sinceMs: number;
  knownSessionIds?: ReadonlySet<string>;
  abortSignal?: AbortSignal;
}

/**
 * The newest deletion session for the VM that started since `sinceMs` and is neither known nor claimed
 * (see the file comment): the answer to an ambiguous delete, or to a resumed run's "submitting" target. The
 * log check guards against an appliance that ignores the ResourceId filter: a session whose log names
 * other VMs only is not ours.
 */
export async function findDeletionSession(
  options: Pick<DeleteGuardOptions, 'profile' | 'send' | 'claimed'>,
  look: DeletionSessionLook,
): Promise<JobSession | undefined> {
  const { profile } = options;
  const { vmId, knownSessionIds, abortSignal } = look;
  const earliest = look.sinceMs;
  const query = new URLSearchParams();
  for (const type of profile.deleteSessionTypes) query.append('Types', type);
  query.set('ResourceId', vmId);
  query.set('FromUtc', fromUtc(earliest));
  query.set('Limit', '20');
  const { body } = await options.send(
    {
      method: 'GET',
      path: `${profile.sessionsPath}?${query}`,
      route: profile.sessionsPath!,
      kind: 'list',
      abortSignal,
    },
    {},
  );
  const candidates = parseWire(sessionPageSchema, body, profile.sessionsPath!)
    .results.filter(
      (s) =>
        !knownSessionIds?.has(s.id) &&
        !options.claimed.has(s.id) &&
        startedAtMs(s) !== undefined &&
        startedAtMs(s)! >= earliest,
    )
    .sort((a, b) => startedAtMs(b)! - startedAtMs(a)!);
  for (const session of candidates) {
    const { body: log } = await options.send(
      {
        method: 'GET',
        path: profile.sessionLogPath(session.id),
        route: profile.sessionLogRoute,
        kind: 'list',
        abortSignal,
      },
      {},
    );
    if (mayConcernVm(parseSessionLog(log, profile.sessionLogRoute), vmId)) return session;
  }
  return undefined;
}

function startedAtMs(session: JobSession): number | undefined {
  const ms = Date.parse(session.executionStartTime ?? '');
  return Number.isFinite(ms) ? ms : undefined;
}
