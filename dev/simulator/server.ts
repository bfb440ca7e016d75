/** The request pipeline: route, count, apply faults, check the bearer token, handle, answer. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TokenStore } from './auth';
import type { FaultBook, FaultTarget } from './faults';
import { JSON_TYPE, forbidden, injectedStatus, notFound, unauthorized, type SimResponse } from './response';
import type { RouteDef } from './routes/route';
import type { ApiGeneration, SimulatorCounters } from './types';

const MAX_BODY_BYTES = 1_048_576;

/** Off the API paths: what the appliance never serves, so no client can mistake it for an API route. */
export const COUNTERS_PATH = '/_simulator/counters';

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

export interface PipelineDeps {
  routes: RouteDef[];
  versions: ReadonlySet<ApiGeneration>;
  tokens: TokenStore;
  faults: FaultBook;
  counters: SimulatorCounters;
  /** Receives each request line (method and raw URL), when the simulator records them. */
  onRequestLine?: (line: string) => void;
  scheme: 'http' | 'https';
  /** Added to every request. */
  latencyMs: number;
  /** Waits that end early (unresolved) when the simulator closes. */
  sleep: (ms: number) => Promise<void>;
}

interface Matched {
  def: RouteDef;
  params: Record<string, string>;
}

function match(
  routes: RouteDef[],
  versions: ReadonlySet<ApiGeneration>,
  method: string,
  path: string,
): Matched | undefined {
  for (const def of routes) {
    if (def.method !== method || (def.generation && !versions.has(def.generation))) continue;
    const found = def.pattern.exec(path);
    if (found) return { def, params: { ...found.groups } };
  }
  return undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error('request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, response: SimResponse, text: string | undefined): void {
  const headers: Record<string, string | number> = { ...response.headers };
  if (text !== undefined) {
    headers['Content-Type'] = response.contentType ?? JSON_TYPE;
    headers['Content-Length'] = Buffer.byteLength(text);
  }
  res.writeHead(response.status, headers);
  res.end(text);
}

/** Cuts a JSON text short, which always leaves an object or array unparsable. */
function truncate(text: string | undefined): string {
  return text === undefined || text.length < 2 ? '{"truncated' : text.slice(0, Math.floor(text.length / 2));
}

export function createPipeline(deps: PipelineDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { counters, faults } = deps;

  const handleRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = new URLSearchParams(queryAt === -1 ? '' : rawUrl.slice(queryAt + 1));
    if (path === COUNTERS_PATH && req.method === 'GET') {
      // Not counted and not faulted: reading the counters must not change them.
      const answer = isLoopbackAddress(req.socket.remoteAddress)
        ? { status: 200, body: counters }
        : forbidden('The simulator counters answer only on loopback.', path);
      send(res, answer, JSON.stringify(answer.body));
      return;
    }
    deps.onRequestLine?.(`${req.method ?? 'GET'} ${rawUrl}`);
    const origin = `${deps.scheme}://${req.headers.host ?? ''}`;
    const found = match(deps.routes, deps.versions, req.method ?? 'GET', path);

    const routeName = found?.def.route ?? 'unknown';
    counters.requestsByRoute[routeName] = (counters.requestsByRoute[routeName] ?? 0) + 1;
    if (req.headers.authorization !== undefined) {
      counters.authorizationByOrigin[origin] = (counters.authorizationByOrigin[origin] ?? 0) + 1;
    }

    const params = found?.params ?? {};
    const target: FaultTarget = {
      route: routeName,
      vmIds: found?.def.vmIdsOf?.({ params, query, body }) ?? [],
      restorePointIds: found?.def.restorePointIdsOf?.({ params }) ?? [],
    };
    const before = faults.before(target);
    const delayMs = deps.latencyMs + before.latencyMs;
    if (delayMs > 0) await deps.sleep(delayMs);
    if (before.drop) {
      req.socket.destroy();
      return;
    }
    if (before.status) {
      const answer = injectedStatus(before.status.status, before.status.retryAfter);
      send(res, answer, JSON.stringify(answer.body));
      return;
    }

    let response: SimResponse;
    if (!found) response = notFound(`No API route matches ${req.method} ${path}.`, path);
    else {
      const auth = found.def.anonymous ? undefined : deps.tokens.checkBearer(req.headers.authorization);
      if (auth && !auth.ok) {
        response = unauthorized(
          auth.expired ? 'The access token has expired.' : 'A valid bearer token is required.',
          auth.expired,
        );
      } else {
        const during = faults.during(target);
        const linkOrigin = during.linkOrigin ?? origin;
        response = found.def.handle({
          params,
          query,
          body,
          headers: req.headers,
          linkOrigin,
          forceStuck: during.stuck,
          vanish: during.vanish,
          listing: during.listing,
        });
      }
    }

    let text = response.body === undefined ? undefined : JSON.stringify(response.body);
    if (response.status < 400) {
      const after = faults.after(target);
      if (after.drop) {
        req.socket.destroy();
        return;
      }
      if (after.malformedJson) {
        if (text === undefined) response = { status: 200 };
        text = truncate(text);
      }
      if (after.slowMs > 0) await deps.sleep(after.slowMs);
    }
    send(res, response, text);
  };

  return (req, res) => {
    handleRequest(req, res).catch(() => {
      // A body that broke mid-read or a handler bug: the client sees a bare 500 or a reset.
      if (res.headersSent) res.destroy();
      else send(res, { status: 500 }, undefined);
    });
  };
}
