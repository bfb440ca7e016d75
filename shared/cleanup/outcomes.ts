/**
 * Pure mappings from what happened to a target onto its result. No I/O and no clock: durations are passed
 * in, so every mapping is unit-testable.
 */
import type { Report, SkipReason } from '../report';
import type { TargetResult } from './types';
import {
  AmbiguousDeleteError,
  MfaRequiredError,
  VeeamApiError,
  VeeamAuthError,
  VeeamNetworkError,
  VeeamTlsError,
} from '../veeam/errors';
import type { SessionResult } from '../veeam/types';

/** Why a wait for a session ended before the session did. */
export type WaitEnd = 'wait' | 'interrupted' | 'lost';

export function skipped(vmId: string, reason: SkipReason): TargetResult {
  return { vmId, outcome: 'Skipped', attempts: 0, durationMs: 0, error: reason, skipReason: reason };
}

export interface SessionFacts {
  vmId: string;
  attempts: number;
  durationMs: number;
  statusUrl?: (sessionId: string) => string;
}

export function fromSession(result: SessionResult, facts: SessionFacts): TargetResult {
  if (result.status === 'TimedOut') {
    return { ...timedOut(result.sessionId, result.lastStatus, 'wait', facts), ...logOf(result) };
  }
  const outcome =
    result.status === 'Success' ? 'Succeeded' : result.status === 'Warning' ? 'Warning' : 'Failed';
  const lastMessage = result.log?.[result.log.length - 1]?.message;
  return {
    vmId: facts.vmId,
    outcome,
    sessionId: result.sessionId,
    sessionStatus: result.lastStatus,
    attempts: facts.attempts,
    durationMs: facts.durationMs,
    ...(outcome === 'Failed'
      ? { error: `session ended ${result.status}${lastMessage ? `: ${lastMessage}` : ''}` }
      : {}),
    ...logOf(result),
  };
}

const WAIT_END_TEXT: Record<WaitEnd, (sessionId: string, status: string) => string> = {
  wait: (id, status) => `session ${id} was still ${status} when the wait ended; check it on the appliance`,
  interrupted: (id, status) =>
    `the run was interrupted while session ${id} was ${status}; check it on the appliance`,
  lost: (id, status) =>
    `lost track of session ${id} (last seen ${status}); result unknown, check it on the appliance`,
};

/** A session whose end this run did not see: its result is unknown, so the admin gets its id. */
export function timedOut(sessionId: string, status: string, why: WaitEnd, facts: SessionFacts): TargetResult {
  return {
    vmId: facts.vmId,
    outcome: 'TimedOut',
    sessionId,
    sessionStatus: status,
    attempts: facts.attempts,
    durationMs: facts.durationMs,
    error: WAIT_END_TEXT[why](sessionId, status),
    ...(facts.statusUrl ? { statusUrl: facts.statusUrl(sessionId) } : {}),
  };
}

export function failed(vmId: string, error: unknown, attempts: number, durationMs: number): TargetResult {
  const message = error instanceof AmbiguousDeleteError ? error.message : asError(error).message;
  return { vmId, outcome: 'Failed', attempts, durationMs, error: message };
}

export function logOf(result: SessionResult): Pick<TargetResult, 'log'> {
  return result.log && result.log.length > 0 ? { log: result.log } : {};
}

/** Requests a failed call sent (the client's errors carry it; 1 when unknown). */
export function attemptsOf(error: unknown): number {
  const attempts = (error as { attempts?: unknown } | undefined)?.attempts;
  return typeof attempts === 'number' ? attempts : 1;
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** True when the request never reached the appliance (refused, DNS, TLS before send). */
export function neverReachedAppliance(error: unknown): boolean {
  return error instanceof VeeamNetworkError && error.notSent;
}

export function describeConnectFailure(error: unknown): NonNullable<Report['failure']> {
  if (error instanceof MfaRequiredError) return { kind: 'mfa', message: error.message };
  if (error instanceof VeeamAuthError) return { kind: 'auth', message: error.message };
  if (error instanceof VeeamTlsError) return { kind: 'tls', message: error.message };
  if (error instanceof VeeamNetworkError || error instanceof VeeamApiError) {
    return { kind: 'unreachable', message: error.message };
  }
  return { kind: 'unreachable', message: asError(error).message };
}
