import {
  circuitBreaker,
  ConsecutiveBreaker,
  handleWhen,
  BrokenCircuitError,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { MfaRequiredError, VeeamAuthError, VeeamNetworkError, VeeamTlsError } from '../veeam/errors';

/** Failures that say the appliance itself is down or refusing us, as opposed to one VM's problem. */
export function isApplianceUnavailable(error: unknown): boolean {
  return (
    error instanceof VeeamNetworkError ||
    error instanceof VeeamAuthError ||
    error instanceof MfaRequiredError ||
    error instanceof VeeamTlsError
  );
}

export interface ApplianceBreakerOptions {
  /** Consecutive appliance-level failures that open the breaker (default 3). */
  threshold?: number;
}

/**
 * Stops a run from hammering an appliance that is plainly down. It never half-opens: a run that lost the
 * appliance reports the rest as skipped, and the next run (or the timer's retry) starts fresh.
 */
export function createApplianceBreaker(options: ApplianceBreakerOptions = {}): CircuitBreakerPolicy {
  return circuitBreaker(handleWhen(isApplianceUnavailable), {
    halfOpenAfter: Number.MAX_SAFE_INTEGER,
    breaker: new ConsecutiveBreaker(options.threshold ?? 3),
  });
}

export function isBrokenCircuit(error: unknown): boolean {
  return error instanceof BrokenCircuitError;
}
