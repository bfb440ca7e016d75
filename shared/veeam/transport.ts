/**
 * One HTTP exchange with the appliance: node-fetch over a keep-alive agent that trusts the pinned CA, a
 * per-request timeout linked to the caller's signal, the global in-flight limit, and classification of every
 * failure into VeeamApiError / VeeamNetworkError / VeeamTlsError. Requests take a path, never a URL, so
 * nothing here can address (or send the token to) another origin.
 */
import http from 'node:http';
import https from 'node:https';
import fetch, { FetchError, type RequestInit, type Response } from 'node-fetch';
import pLimit from 'p-limit';
import type { Clock } from '../clock';
import { VeeamApiError, VeeamNetworkError, VeeamTlsError, type ProblemDetails } from './errors';
import { parseRetryAfterMs } from './retry';
import type { RequestInfo } from './types';

export interface TransportOptions {
  /** Validated appliance base URL (see parseApplianceUrl). */
  baseUrl: URL;
  /** PEM certificate or CA: when given, the only trust anchor for the appliance (public roots are not used). */
  caCert?: string;
  /** Per-request timeout in ms. */
  requestTimeoutMs: number;
  /** Requests in flight at once, across the whole client. */
  maxInFlight: number;
  onRequest?: (info: RequestInfo) => void;
  /** Called whenever a request left the in-flight limit (answered or failed): a slot may be free. */
  onSettled?: () => void;
  /** Strings that must never leave in an error message (password, tokens). */
  secrets: () => readonly string[];
  /** Times each request and arms its timeout. */
  clock: Clock;
}

export interface TransportRequest {
  method: 'GET' | 'POST' | 'DELETE';
  /** Absolute path on the appliance, optionally with a query string. */
  path: string;
  /** The path with ids templated, for telemetry, e.g. /api/v1/jobSessions/{id}. */
  route: string;
  kind: RequestInfo['kind'];
  headers?: Record<string, string>;
  body?: string;
  abortSignal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  /** Parsed JSON body, or undefined for an empty body. */
  body: unknown;
  /** Retry-After of a successful answer (e.g. "poll again later"), in ms. */
  retryAfterMs?: number;
}

export interface Transport {
  readonly origin: string;
  send(request: TransportRequest): Promise<TransportResponse>;
  /** Requests in flight or waiting for a slot. */
  readonly load: number;
  close(): void;
}

/** Failures that happen before a single byte of the request could reach the appliance. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_|HOSTNAME_MISMATCH/;

export function createTransport(options: TransportOptions): Transport {
  const origin = options.baseUrl.origin;
  const basePath = options.baseUrl.pathname.replace(/\/+$/, '');
  const { clock } = options;
  const now = () => clock.now();
  const isHttps = options.baseUrl.protocol === 'https:';
  // A configured PEM is a pin: `ca` replaces Node's public roots, so a certificate another CA issued for the
  // same hostname is refused. rejectUnauthorized is explicit so Node's environment switch for disabling
  // certificate checks cannot turn verification off.
  const agent = isHttps
    ? new https.Agent({
        keepAlive: true,
        maxSockets: options.maxInFlight,
        rejectUnauthorized: true,
        ca: options.caCert,
      })
    : new http.Agent({ keepAlive: true, maxSockets: options.maxInFlight });
  const limit = pLimit(options.maxInFlight);

  const scrub = (text: string | undefined): string | undefined => {
    if (text === undefined) return undefined;
    let out = text;
    for (const secret of options.secrets()) if (secret) out = out.split(secret).join('[redacted]');
    return out;
  };

  async function exchange(request: TransportRequest): Promise<TransportResponse> {
    const cleanPath = request.path.split('?')[0];
    const timeout = new AbortController();
    const timer = clock.setTimer(() => timeout.abort(), options.requestTimeoutMs);
    const signal = request.abortSignal
      ? AbortSignal.any([request.abortSignal, timeout.signal])
      : timeout.signal;
    const started = now();
    let status: number | undefined;
    try {
      const response = await fetch(`${origin}${basePath}${request.path}`, {
        method: request.method,
        headers: { Accept: 'application/json', ...request.headers },
        body: request.body,
        agent,
        // node-fetch v2 types predate the DOM AbortSignal; the runtime object is the one it expects.
        signal: signal as RequestInit['signal'],
        redirect: 'manual',
      });
      status = response.status;
      const body = await readBody(response, request, cleanPath);
      if (response.status < 200 || response.status >= 300) {
        throw new VeeamApiError(
          response.status,
          request.method,
          cleanPath,
          problemOf(body, scrub),
          parseRetryAfterMs(response.headers.get('retry-after'), now()),
        );
      }
      return {
        status: response.status,
        body,
        retryAfterMs: parseRetryAfterMs(response.headers.get('retry-after'), now()),
      };
    } catch (error) {
      if (request.abortSignal?.aborted) throw request.abortSignal.reason ?? error;
      if (timeout.signal.aborted && !(error instanceof VeeamApiError)) {
        throw new VeeamNetworkError('ETIMEDOUT', request.method, cleanPath, false);
      }
      throw classify(error, request, cleanPath, origin);
    } finally {
      clock.clearTimer(timer);
      options.onRequest?.({
        method: request.method,
        path: request.route,
        kind: request.kind,
        status,
        durationMs: now() - started,
        ok: status !== undefined && status >= 200 && status < 300,
      });
    }
  }

  return {
    origin,
    send: (request) => {
      const sent = limit(() => exchange(request));
      const settled = options.onSettled;
      if (settled) sent.then(settled, settled);
      return sent;
    },
    get load() {
      return limit.activeCount + limit.pendingCount;
    },
    close: () => agent.destroy(),
  };
}

async function readBody(response: Response, request: TransportRequest, cleanPath: string): Promise<unknown> {
  const text = await response.text();
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    // A 2xx with a body that is not JSON is a damaged exchange, not an answer: the caller treats it like a
    // reset after send (the appliance may have acted on it).
    if (response.status >= 200 && response.status < 300) {
      throw new VeeamNetworkError('EBADRESPONSE', request.method, cleanPath, false);
    }
    return {};
  }
}

function problemOf(body: unknown, scrub: (text: string | undefined) => string | undefined): ProblemDetails {
  if (!body || typeof body !== 'object') return {};
  const b = body as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? scrub(v) : undefined);
  return { title: text(b.title), detail: text(b.detail), traceId: text(b.traceId) };
}

function classify(error: unknown, request: TransportRequest, cleanPath: string, origin: string): Error {
  if (error instanceof VeeamApiError || error instanceof VeeamNetworkError) return error;
  const code =
    (error instanceof FetchError && (error.code ?? error.errno)) || (error as { code?: string })?.code;
  const text = typeof code === 'string' ? code : 'ENETWORK';
  if (TLS_CODE.test(text)) return new VeeamTlsError(text, origin);
  return new VeeamNetworkError(text, request.method, cleanPath, NOT_SENT_CODES.has(text));
}
