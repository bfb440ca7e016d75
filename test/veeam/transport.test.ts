/**
 * The transport on node:http: what the client above it relies on for each way an exchange can end, over
 * real loopback sockets (a raw server, since the simulator always answers whole).
 */
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { systemClock } from '../../shared/clock';
import { VeeamApiError, VeeamNetworkError } from '../../shared/veeam/errors';
import { createTransport, type Transport, type TransportRequest } from '../../shared/veeam/transport';
import type { RequestInfo } from '../../shared/veeam/types';
import { createFakeClock } from '../support/fakeClock';
import { until } from './helpers';

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

let server: http.Server | undefined;
let transport: Transport | undefined;

afterEach(async () => {
  transport?.close();
  transport = undefined;
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
  }
});

async function serve(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void,
  host = '127.0.0.1',
): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      seen.push(entry);
      handler(req, res, entry);
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, seen };
}

function open(
  url: string,
  overrides: { clock?: ReturnType<typeof createFakeClock>; infos?: RequestInfo[] } = {},
) {
  transport = createTransport({
    baseUrl: new URL(url),
    requestTimeoutMs: 5_000,
    maxInFlight: 4,
    secrets: () => ['CANARY-SECRET-91c2'],
    clock: overrides.clock ?? systemClock,
    onRequest: (info) => overrides.infos?.push(info),
  });
  return transport;
}

const get = (path: string, extra: Partial<TransportRequest> = {}): TransportRequest => ({
  method: 'GET',
  path,
  route: path,
  kind: 'poll',
  ...extra,
});

const json = (
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: http.OutgoingHttpHeaders = {},
) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

describe('transport', () => {
  it('sends the body with its byte length, asks for no content coding, and parses the answer', async () => {
    const app = await serve((_req, res) => json(res, 202, { id: 'session-1' }, { 'retry-after': '3' }));
    const body = JSON.stringify({ note: 'snapshot «nightly» ✓' });
    const answer = await open(app.url).send({
      method: 'POST',
      path: '/api/v1/virtualMachines/vm-1/snapshots/delete?x=1',
      route: '/api/v1/virtualMachines/{id}/snapshots/delete',
      kind: 'delete',
      headers: { 'Content-Type': 'application/json' },
      body,
    });
    expect(answer).toEqual({ status: 202, body: { id: 'session-1' }, retryAfterMs: 3_000 });
    const [request] = app.seen;
    expect(request.url).toBe('/api/v1/virtualMachines/vm-1/snapshots/delete?x=1');
    expect(request.body).toBe(body);
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(request.headers['accept-encoding']).toBe('identity');
    expect(request.headers.accept).toBe('application/json');
  });

  it('keeps the base URL path and reaches an IPv6 loopback appliance', async () => {
    const app = await serve((_req, res) => json(res, 200, { ok: true }), '::1');
    const answer = await open(`${app.url}/veeam/`).send(get('/api/v8.1/system/serviceIsUp'));
    expect(answer.body).toEqual({ ok: true });
    expect(app.seen[0].url).toBe('/veeam/api/v8.1/system/serviceIsUp');
  });

  it('an empty 2xx body is undefined; an error answer becomes VeeamApiError with its problem scrubbed', async () => {
    const app = await serve((req, res) =>
      req.url === '/empty'
        ? res.writeHead(204).end()
        : json(
            res,
            409,
            { title: 'Conflict', detail: 'token CANARY-SECRET-91c2 in use' },
            { 'retry-after': '2' },
          ),
    );
    const t = open(app.url);
    await expect(t.send(get('/empty'))).resolves.toEqual({
      status: 204,
      body: undefined,
      retryAfterMs: undefined,
    });
    const error = await t.send(get('/conflict?token=x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VeeamApiError);
    expect(error).toMatchObject({ status: 409, path: '/conflict', retryAfterMs: 2_000 });
    expect((error as VeeamApiError).detail).toBe('token [redacted] in use');
    expect(String((error as Error).message)).not.toContain('CANARY-SECRET-91c2');
  });

  it('a 2xx whose body is not JSON is a damaged exchange (EBADRESPONSE), not an answer', async () => {
    const app = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>proxy login</html>');
    });
    await expect(open(app.url).send(get('/api/v1/jobSessions/s-1'))).rejects.toMatchObject({
      name: 'VeeamNetworkError',
      code: 'EBADRESPONSE',
      notSent: false,
    });
  });

  it('a connection that closes mid-answer is a reset after send, never an answer', async () => {
    const app = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '200' });
      res.write('{"id":"sess');
      setImmediate(() => res.socket?.destroy());
    });
    const infos: RequestInfo[] = [];
    const error = await open(app.url, { infos })
      .send(get('/api/v1/jobSessions/s-1'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VeeamNetworkError);
    expect(error).toMatchObject({ code: 'ECONNRESET', notSent: false });
    // Telemetry counts it as a failed exchange, though the status line had arrived.
    expect(infos).toMatchObject([{ status: undefined, ok: false, kind: 'poll' }]);
  });

  it('a refused connection is known not to have been sent', async () => {
    const app = await serve(() => undefined);
    const url = app.url;
    server?.close();
    server = undefined;
    await expect(open(url).send(get('/x'))).rejects.toMatchObject({ code: 'ECONNREFUSED', notSent: true });
  });

  it('times out on the injected clock: ETIMEDOUT, and the socket is let go', async () => {
    const sockets = new Set<unknown>();
    const app = await serve(() => undefined); // never answers
    server?.on('connection', (socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    const clock = createFakeClock();
    const sent = open(app.url, { clock }).send(get('/api/v1/jobSessions/s-1'));
    const outcome = sent.catch((e: unknown) => e);
    await until(() => app.seen.length === 1, 'the request to arrive');
    await clock.advance(4_999);
    expect(clock.active()).toBe(1);
    await clock.advance(1);
    expect(await outcome).toMatchObject({ name: 'VeeamNetworkError', code: 'ETIMEDOUT', notSent: false });
    expect(clock.active()).toBe(0);
    await until(() => sockets.size === 0, 'the timed-out socket to close');
  });

  it("the caller's abort ends the exchange with its reason, and no listener stays on the caller's signal", async () => {
    let hold = true;
    const app = await serve((_req, res) => {
      if (!hold) json(res, 200, { ok: true });
    });
    const run = new AbortController();
    const t = open(app.url);
    // A run's signal lives for the whole run: thousands of requests must not leave listeners behind on it.
    hold = false;
    for (let i = 0; i < 20; i++) await t.send(get(`/ok/${i}`, { abortSignal: run.signal }));
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);

    // Requests in flight together share one listener (eleven would draw Node's leak warning).
    hold = true;
    const pending = Array.from({ length: 12 }, (_, i) =>
      t.send(get(`/held/${i}`, { abortSignal: run.signal })).catch((e: unknown) => e),
    );
    await until(() => app.seen.filter((s) => s.url.startsWith('/held')).length === 4, 'four held requests');
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(1);
    const reason = new Error('run stopped');
    run.abort(reason);
    // The four in flight end with the run's reason; the eight waiting for a slot are never sent.
    for (const outcome of await Promise.all(pending)) expect(outcome).toBe(reason);
    expect(app.seen.filter((s) => s.url.startsWith('/held'))).toHaveLength(4);
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);

    const before = app.seen.length;
    await expect(t.send(get('/after', { abortSignal: run.signal }))).rejects.toBe(reason);
    expect(app.seen).toHaveLength(before);
  });

  it('does not follow a redirect: a 3xx is an answer of its own', async () => {
    const app = await serve((req, res) => {
      if (req.url === '/moved') res.writeHead(302, { location: 'http://127.0.0.2:9/elsewhere' }).end();
      else json(res, 200, {});
    });
    await expect(open(app.url).send(get('/moved'))).rejects.toMatchObject({
      name: 'VeeamApiError',
      status: 302,
    });
    expect(app.seen.map((s) => s.url)).toEqual(['/moved']);
  });
});
