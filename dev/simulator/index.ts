/** The Veeam Backup for Microsoft Azure appliance simulator: startSimulator() and its types. */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createTokenStore } from './auth';
import { createFaultBook } from './faults';
import { createRandom } from './random';
import type { RouteDeps } from './routes/route';
import { tokenRoutes } from './routes/token';
import { v1Routes } from './routes/v1';
import { v81Routes } from './routes/v81';
import { createPipeline } from './server';
import { createState } from './state';
import type { SimulatorCounters, SimulatorHandle, SimulatorOptions } from './types';

export type * from './types';

export const DEFAULT_USER = { username: 'veeam-admin', password: 'veeam-password' };

const REFRESH_LIFETIME_SEC = 14 * 24 * 3600;

function emptyCounters(): SimulatorCounters {
  return {
    requestsByRoute: {},
    deleteCallsByVm: {},
    authorizationByOrigin: {},
    tokensIssued: { password: 0, refresh: 0 },
  };
}

/** Clears the counters in place, so references tests hold stay live. */
function resetCounters(counters: SimulatorCounters): void {
  for (const key of ['requestsByRoute', 'deleteCallsByVm', 'authorizationByOrigin'] as const) {
    for (const name of Object.keys(counters[key])) delete counters[key][name];
  }
  counters.tokensIssued.password = 0;
  counters.tokensIssued.refresh = 0;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const now = Date.now;
  const counters = emptyCounters();
  const state = createState({ options, now });
  const accessTokenLifetimeSec = options.accessTokenLifetimeSec ?? 3600;
  const tokens = createTokenStore({
    accessLifetimeMs: accessTokenLifetimeSec * 1000,
    refreshLifetimeMs: (options.refreshTokenLifetimeSec ?? REFRESH_LIFETIME_SEC) * 1000,
    now,
  });
  const faults = createFaultBook(options.faults ?? [], createRandom((options.seed ?? 1) + 0x85ebca6b));
  const deps: RouteDeps = {
    state,
    tokens,
    users: options.users ?? [DEFAULT_USER],
    counters,
    now,
    accessTokenLifetimeSec,
    maxPageSize: options.maxPageSize ?? 1000,
  };

  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const scheme = options.tls ? 'https' : 'http';
  const listener = createPipeline({
    routes: [...tokenRoutes(deps), ...v1Routes(deps), ...v81Routes(deps)],
    versions: new Set(options.versions ?? ['v1', 'v8.1']),
    tokens,
    faults,
    counters,
    scheme,
    latencyMs: options.latencyMs ?? 0,
    sleep,
  });
  const server = options.tls
    ? https.createServer({ cert: options.tls.cert, key: options.tls.key }, listener)
    : http.createServer(listener);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    origin: url,
    counters,
    resetCounters: () => resetCounters(counters),
    addFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    setVm: (spec) => state.setVm(spec),
    getVm: (id) => {
      const vm = state.getVm(id);
      if (!vm) return undefined;
      const restorePoints = vm.restorePoints.map(({ id: pointId, backupDestination }) => ({
        id: pointId,
        backupDestination,
      }));
      return { spec: { ...vm.spec }, restorePoints };
    },
    sessions: () => state.sessionViews(),
    expireAccessTokens: () => tokens.expireAccessTokens(),
    revokeRefreshTokens: () => tokens.revokeRefreshTokens(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
