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
import type { RestorePoint } from './fleet';
import { isoTime } from './format';
import type {
  SimRestorePointView,
  SimulatorCounters,
  SimulatorHandle,
  SimulatorOptions,
  SimUser,
} from './types';

export type * from './types';
export { FAULT_KINDS, SIM_ROUTES } from './faults';

export const DEFAULT_USER = { username: 'veeam-admin', password: 'veeam-password' };

/** The credentials of appliance `index` (0-based) of startSimulators: the first keeps DEFAULT_USER. */
export function applianceUser(index: number): SimUser {
  if (index === 0) return { ...DEFAULT_USER };
  return { username: `veeam-admin-${index + 1}`, password: `veeam-password-${index + 1}` };
}

const REFRESH_LIFETIME_SEC = 14 * 24 * 3600;

function emptyCounters(): SimulatorCounters {
  return {
    requestsByRoute: {},
    deleteCallsByVm: {},
    pointDeleteCallsByVm: {},
    pointDeleteCallsByPoint: {},
    pointDeleteAnswers: { accepted: 0, notFound: 0, locked: 0 },
    authorizationByOrigin: {},
    tokensIssued: { password: 0, refresh: 0 },
  };
}

const RECORD_COUNTERS = [
  'requestsByRoute',
  'deleteCallsByVm',
  'pointDeleteCallsByVm',
  'pointDeleteCallsByPoint',
  'authorizationByOrigin',
] as const;

/** Clears the counters in place, so references tests hold stay live. */
function resetCounters(counters: SimulatorCounters): void {
  for (const key of RECORD_COUNTERS) {
    for (const name of Object.keys(counters[key])) delete counters[key][name];
  }
  counters.tokensIssued.password = 0;
  counters.tokensIssued.refresh = 0;
  Object.assign(counters.pointDeleteAnswers, { accepted: 0, notFound: 0, locked: 0 });
}

function pointView(point: RestorePoint): SimRestorePointView {
  return {
    id: point.id,
    backupDestination: point.backupDestination,
    pointInTime: isoTime(point.pointInTimeMs),
    immutableTill: point.immutableTillMs === undefined ? null : isoTime(point.immutableTillMs),
    locked: point.locked,
  };
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const now = options.now ?? Date.now;
  const counters = emptyCounters();
  const state = createState({ options, now });
  const accessTokenLifetimeSec = options.accessTokenLifetimeSec ?? 3600;
  const tokens = createTokenStore({
    accessLifetimeMs: accessTokenLifetimeSec * 1000,
    refreshLifetimeMs: (options.refreshTokenLifetimeSec ?? REFRESH_LIFETIME_SEC) * 1000,
    now,
  });
  const faults = createFaultBook(options.faults ?? [], createRandom((options.seed ?? 1) + 0x85ebca6b));
  const users = options.users ?? [DEFAULT_USER];
  const deps: RouteDeps = {
    state,
    tokens,
    users,
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

  const requestLog: string[] = [];
  const scheme = options.tls ? 'https' : 'http';
  const listener = createPipeline({
    routes: [...tokenRoutes(deps), ...v1Routes(deps), ...v81Routes(deps)],
    versions: new Set(options.versions ?? ['v1', 'v8.1']),
    tokens,
    faults,
    counters,
    onRequestLine: options.recordRequests ? (line) => requestLog.push(line) : undefined,
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

  const sessionView = (id: string) => {
    const view = state.sessionViews().find((s) => s.id === id);
    if (!view) throw new Error(`session ${id} vanished`);
    return view;
  };

  return {
    url,
    origin: url,
    credentials: { ...users[0] },
    controllerVmId: state.listVms().find((vm) => vm.isController)?.spec.id,
    counters,
    requestLog,
    resetCounters: () => resetCounters(counters),
    addFault: (rule) => faults.add(rule),
    clearFaults: () => faults.clear(),
    setVm: (spec) => state.setVm(spec),
    getVm: (id) => {
      const vm = state.getVm(id);
      if (!vm) return undefined;
      return { spec: { ...vm.spec }, restorePoints: vm.restorePoints.map(pointView) };
    },
    vmIds: () => state.listVms().map((vm) => vm.spec.id),
    addRestorePoint: (vmId, spec = {}) => pointView(state.addRestorePoint(vmId, spec)),
    addSession: (spec) => sessionView(state.addSession(spec).id),
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

export interface StartSimulatorsOptions {
  /** How many appliances (each its own server, port, fleet, tokens and counters). */
  count: number;
  /** Options every appliance gets (seed and port are offset by the appliance's index). */
  base?: SimulatorOptions;
  /** Per-appliance overrides, applied last. */
  each?: (index: number) => SimulatorOptions;
}

/**
 * Starts `count` simulators in-process, for tests of several appliances. Appliance i gets seed base+i,
 * port base+i (when a base port is given), the credentials applianceUser(i) and, unless told otherwise, a
 * controller VM. If one fails to start, the others are closed again.
 */
export async function startSimulators({
  count,
  base = {},
  each,
}: StartSimulatorsOptions): Promise<SimulatorHandle[]> {
  const handles: SimulatorHandle[] = [];
  try {
    for (let index = 0; index < count; index++) {
      handles.push(
        await startSimulator({
          controller: true,
          users: [applianceUser(index)],
          ...base,
          seed: (base.seed ?? 1) + index,
          port: base.port ? base.port + index : 0,
          ...each?.(index),
        }),
      );
    }
  } catch (error) {
    await Promise.all(handles.map((handle) => handle.close()));
    throw error;
  }
  return handles;
}
