/**
 * Typed errors of the appliance client. Messages carry the method and a path without query string or
 * credentials, and never a token or password.
 */

export interface ProblemDetails {
  title?: string;
  detail?: string;
  traceId?: string;
  errors?: Record<string, string[]>;
}

/** Base of every error the appliance client throws, so callers test one class instead of listing them. */
export abstract class VeeamError extends Error {}

/** The appliance answered with a non-2xx status. */
export class VeeamApiError extends VeeamError {
  override readonly name = 'VeeamApiError';
  readonly title?: string;
  readonly detail?: string;
  readonly traceId?: string;
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    problem: ProblemDetails = {},
    /** Seconds or HTTP-date from Retry-After, already converted to ms. */
    readonly retryAfterMs?: number,
  ) {
    super(
      `${method} ${path} answered ${status}` +
        (problem.title ? ` ${problem.title}` : '') +
        (problem.detail ? `: ${problem.detail}` : '') +
        (problem.traceId ? ` (traceId ${problem.traceId})` : ''),
    );
    this.title = problem.title;
    this.detail = problem.detail;
    this.traceId = problem.traceId;
  }
}

/** The request failed below HTTP: refused, reset, timed out, DNS. */
export class VeeamNetworkError extends VeeamError {
  override readonly name = 'VeeamNetworkError';
  constructor(
    readonly code: string,
    readonly method: string,
    readonly path: string,
    /** True when the request certainly never reached the appliance (e.g. ECONNREFUSED). */
    readonly notSent: boolean,
  ) {
    super(`${method} ${path} failed: ${code}`);
  }
}

/** The appliance's certificate was not trusted. */
export class VeeamTlsError extends VeeamError {
  override readonly name = 'VeeamTlsError';
  constructor(
    readonly code: string,
    readonly origin: string,
  ) {
    super(
      `The appliance certificate at ${origin} is not trusted (${code}). ` +
        'If the appliance uses a self-signed certificate, give its PEM certificate or CA in VEEAM_CA_CERT ' +
        '(or the secret veeam-ca-cert, or --ca-file). TLS verification is never switched off.',
    );
  }
}

/** The appliance rejected the user name or password. */
export class VeeamAuthError extends VeeamError {
  override readonly name = 'VeeamAuthError';
  constructor(
    readonly status: number,
    detail?: string,
  ) {
    super(`The appliance rejected the credentials (${status})${detail ? `: ${detail}` : ''}`);
  }
}

/**
 * Logged in, but the appliance (or a proxy in front of it) refused an authenticated request: the account
 * lacks a role, or a WAF blocks the path. A connect failure, not a version guess.
 */
export class VeeamAccessError extends VeeamError {
  override readonly name = 'VeeamAccessError';
  constructor(
    readonly status: number,
    readonly route: string,
  ) {
    super(
      `The appliance refused ${route} after login (${status}); check the account's role and any proxy in front`,
    );
  }
}

/** The appliance does not speak the configured (or any supported) API version. */
export class VeeamApiVersionError extends VeeamError {
  override readonly name = 'VeeamApiVersionError';
  constructor(
    /** The setting: 'v1', 'v8.1' or 'auto'. */
    readonly apiVersion: string,
    detail: string,
  ) {
    super(`API version ${apiVersion} cannot be used: ${detail}`);
  }
}

export class MfaRequiredError extends VeeamError {
  override readonly name = 'MfaRequiredError';
  constructor() {
    super('MFA is enabled for this account; use a service account without MFA');
  }
}

/** A delete may or may not have reached the appliance, and no safe check could tell. */
export class AmbiguousDeleteError extends VeeamError {
  override readonly name = 'AmbiguousDeleteError';
  constructor(
    readonly vmId: string,
    cause?: Error,
  ) {
    super('unknown whether the delete was accepted', { cause });
  }
}

/**
 * A 2xx answer whose JSON does not have the documented shape. The message names the route and the JSON
 * path of the first mismatch, never a value: bodies may carry names an admin does not want in logs.
 */
export class VeeamProtocolError extends VeeamError {
  override readonly name = 'VeeamProtocolError';
  constructor(
    readonly route: string,
    /** JSON path of the first field that did not match, e.g. results[3].id. */
    readonly field: string,
  ) {
    super(`The appliance's answer to ${route} is not in the expected shape (at ${field || 'the body'})`);
  }
}

/**
 * A VM listing that would not end: more VMs than any appliance holds, or a page that brings nothing new
 * (the appliance ignores Offset). Discovery stops instead of paging forever.
 */
export class VeeamListingLimitError extends VeeamError {
  override readonly name = 'VeeamListingLimitError';
  constructor(
    readonly route: string,
    readonly reason: 'tooManyVms' | 'notAdvancing',
    detail: string,
  ) {
    super(`The listing of ${route} was stopped: ${detail}`);
  }
}

/** The request never reached the appliance (refused, DNS, no route): nothing was acted on. */
export function isApplianceUnreachable(error: unknown): boolean {
  return error instanceof VeeamNetworkError && error.notSent;
}
