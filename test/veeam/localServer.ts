/** A tiny loopback appliance for answers the simulator cannot give (damaged shapes, a WAF, routes it lacks). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalReply {
  status: number;
  body?: unknown;
  /** Answer this much later (a slow or queued appliance). */
  delayMs?: number;
}

export interface LocalServer {
  url: string;
  /** `${method} ${path}` of every request, query string included. */
  requests: string[];
  close(): Promise<void>;
}

/** Answers the password grant itself; `route` answers everything else (undefined: 404). */
export async function localAppliance(
  route: (method: string, path: string) => LocalReply | undefined,
): Promise<LocalServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const line = `${req.method} ${req.url}`;
    requests.push(line);
    req.resume();
    req.on('end', () => {
      const reply =
        req.method === 'POST' && req.url === '/api/oauth2/token'
          ? {
              status: 200,
              body: { access_token: 'local-token', refresh_token: 'local-refresh', expires_in: 3600 },
            }
          : (route(req.method ?? 'GET', req.url ?? '/') ?? { status: 404, body: { title: 'Not Found' } });
      const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(text);
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
