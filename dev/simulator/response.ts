/** What a route handler returns, and the problem+json bodies the appliance answers errors with. */
import { randomBytes } from 'node:crypto';

export interface SimResponse {
  status: number;
  /** JSON body; omitted for bodiless answers (204, serviceIsUp). */
  body?: unknown;
  /** default application/json, or application/problem+json for problem() answers. */
  contentType?: string;
  headers?: Record<string, string>;
}

const PROBLEM_TYPES: Record<number, { type: string; title: string }> = {
  400: { type: 'https://tools.ietf.org/html/rfc7231#section-6.5.1', title: 'Bad Request' },
  401: { type: 'https://tools.ietf.org/html/rfc7235#section-3.1', title: 'Unauthorized' },
  403: { type: 'https://tools.ietf.org/html/rfc7231#section-6.5.3', title: 'Forbidden' },
  404: { type: 'https://tools.ietf.org/html/rfc7231#section-6.5.4', title: 'Not Found' },
  423: { type: 'https://tools.ietf.org/html/rfc4918#section-11.3', title: 'Locked' },
  429: { type: 'https://tools.ietf.org/html/rfc6585#section-4', title: 'Too Many Requests' },
  500: { type: 'https://tools.ietf.org/html/rfc7231#section-6.6.1', title: 'Internal Server Error' },
  502: { type: 'https://tools.ietf.org/html/rfc7231#section-6.6.3', title: 'Bad Gateway' },
  503: { type: 'https://tools.ietf.org/html/rfc7231#section-6.6.4', title: 'Service Unavailable' },
};

export const PROBLEM_JSON = 'application/problem+json; charset=utf-8';
export const JSON_TYPE = 'application/json; charset=utf-8';

/** ASP.NET Core's W3C trace id shape. */
function traceId(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00`;
}

function problem(
  status: number,
  body: Record<string, unknown>,
  headers?: Record<string, string>,
): SimResponse {
  return { status, body, contentType: PROBLEM_JSON, headers };
}

/** 400 ProblemDetails400 with per-field messages. */
export function badRequest(errors: Record<string, string[]>): SimResponse {
  const { type, title } = PROBLEM_TYPES[400];
  const detail = 'One or more validation errors occurred.';
  return problem(400, { type, title, status: 400, detail, traceId: traceId(), errors });
}

/** 401 for API routes (ProblemDetails401). */
export function unauthorized(detail: string, expired = false): SimResponse {
  const { type, title } = PROBLEM_TYPES[401];
  const challenge = expired
    ? 'Bearer error="invalid_token", error_description="The token expired"'
    : 'Bearer';
  return problem(401, { type, title, status: 401, detail }, { 'WWW-Authenticate': challenge });
}

/** 401 from the token endpoint (ProblemDetailsTraceId). */
export function loginRejected(detail: string): SimResponse {
  const { type, title } = PROBLEM_TYPES[401];
  return problem(401, {
    type,
    title,
    status: 401,
    detail,
    instance: '/api/oauth2/token',
    traceId: traceId(),
  });
}

/** 404 ProblemDetails404, 423 ProblemDetails423 and the simulator's own 403: the same fields. */
function located(status: 403 | 404 | 423, detail: string, instance: string): SimResponse {
  const { type, title } = PROBLEM_TYPES[status];
  return problem(status, { type, title, status, detail, instance, traceId: traceId() });
}

export const notFound = (detail: string, instance: string): SimResponse => located(404, detail, instance);
export const locked = (detail: string, instance: string): SimResponse => located(423, detail, instance);
export const forbidden = (detail: string, instance: string): SimResponse => located(403, detail, instance);

/** An injected 429/5xx answer (429 follows ProblemDetails429). */
export function injectedStatus(status: 429 | 500 | 502 | 503, retryAfter: string | undefined): SimResponse {
  const { type, title } = PROBLEM_TYPES[status];
  const detail = 'Injected by the simulator.';
  const body =
    status === 429 ? { status, title, traceId: traceId(), detail } : { type, title, status, detail };
  return problem(status, body, retryAfter === undefined ? undefined : { 'Retry-After': retryAfter });
}
