/**
 * One HTTP exchange with the appliance: node:http over a keep-alive agent that trusts the pinned CA, a
 * per-request timeout linked to the caller's signal, the global in-flight limit, and classification of every
 * failure into VeeamApiError / VeeamNetworkError / VeeamTlsError. Requests take a path, never a URL, so
 * nothing here can address (or send the token to) another origin.
 */
import http from 'node:http';
import https from 'node:https';
import pLimit from 'p-limit';
import type { Clock } from '../clock';
import { createAbortWatch } from './abortWatch';
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
  const sendRequest = isHttps ? https.request : http.request;
  // Parsed once: a request names only the method, path and headers. URL.hostname keeps an IPv6 literal's
  // brackets, which http.request does not take.
  const endpoint = {
    protocol: options.baseUrl.protocol,
    hostname: options.baseUrl.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: options.baseUrl.port || undefined,
    agent,
  };

  const aborts = createAbortWatch<(reason: unknown) => void>((fails, reason) => {
    for (const fail of fails) fail(reason);
  });

  const scrub = (text: string | undefined): string | undefined => {
    if (text === undefined) return undefined;
    let out = text;
    for (const secret of options.secrets()) if (secret) out = out.split(secret).join('[redacted]');
    return out;
  };

  async function exchange(request: TransportRequest): Promise<TransportResponse> {
    const cleanPath = request.path.split('?')[0];
    const started = now();
    let status: number | undefined;
    try {
      const answer = await roundTrip(request, cleanPath);
      status = answer.status;
      const body = parseBody(answer, request, cleanPath);
      if (answer.status < 200 || answer.status >= 300) {
        throw new VeeamApiError(
          answer.status,
          request.method,
          cleanPath,
          problemOf(body, scrub),
          parseRetryAfterMs(answer.retryAfter, now()),
        );
      }
      return { status: answer.status, body, retryAfterMs: parseRetryAfterMs(answer.retryAfter, now()) };
    } catch (error) {
      if (request.abortSignal?.aborted) throw request.abortSignal.reason ?? error;
      throw classify(error, request, cleanPath, origin);
    } finally {
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

  /**
   * node:http directly rather than a fetch implementation: at 10,000 VMs the engine makes ~30,000
   * requests, and fetch's per-request Request, Headers, body stream, URL and linked AbortSignal were most of
   * the short-lived garbage that V8 promoted to the old generation (bench/ANALYSIS.md). The timeout and the
   * caller's signal destroy the request themselves, so no signal is created per request.
   */
  function roundTrip(request: TransportRequest, cleanPath: string): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      const caller = request.abortSignal;
      if (caller?.aborted) {
        reject(caller.reason);
        return;
      }
      const headers: http.OutgoingHttpHeaders = {
        Accept: 'application/json',
        // Without it a server may pick any content coding (RFC 9110 §12.5.3); the body is read as UTF-8 text.
        'Accept-Encoding': 'identity',
        ...request.headers,
      };
      if (request.body !== undefined) headers['Content-Length'] = Buffer.byteLength(request.body);
      const req = sendRequest({
        ...endpoint,
        method: request.method,
        path: basePath + request.path,
        headers,
      });
      let settled = false;
      const timer = clock.setTimer(
        () => fail(new VeeamNetworkError('ETIMEDOUT', request.method, cleanPath, false)),
        options.requestTimeoutMs,
      );
      if (caller) aborts.watch(caller, fail);
      function finish() {
        settled = true;
        clock.clearTimer(timer);
        if (caller) aborts.unwatch(caller, fail);
      }
      function fail(error: unknown) {
        if (settled) return;
        finish();
        req.destroy();
        reject(error);
      }
      req.on('error', fail);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.once('end', () => {
          if (settled) return;
          finish();
          resolve({
            status: res.statusCode ?? 0,
            retryAfter: res.headers['retry-after'],
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
        // A connection that closes before the body is complete ends the exchange as a reset.
        res.once('close', () => {
          if (!res.complete)
            fail(Object.assign(new Error('socket closed mid-answer'), { code: 'ECONNRESET' }));
        });
      });
      req.end(request.body);
    });
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

interface Answer {
  status: number;
  retryAfter: string | undefined;
  text: string;
}

function parseBody(answer: Answer, request: TransportRequest, cleanPath: string): unknown {
  if (answer.text.trim() === '') return undefined;
  try {
    return JSON.parse(answer.text);
  } catch {
    // A 2xx with a body that is not JSON is a damaged exchange, not an answer: the caller treats it like a
    // reset after send (the appliance may have acted on it).
    if (answer.status >= 200 && answer.status < 300) {
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
  const code = (error as { code?: unknown } | undefined)?.code;
  const text = typeof code === 'string' ? code : 'ENETWORK';
  if (TLS_CODE.test(text)) return new VeeamTlsError(text, origin);
  return new VeeamNetworkError(text, request.method, cleanPath, NOT_SENT_CODES.has(text));
}
