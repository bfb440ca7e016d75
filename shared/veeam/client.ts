/**
 * createVeeamClient: wires the transport, retry loop, token lifecycle, API profile, delete guard, shared
 * poll scheduler and session pollers behind the VeeamClient interface.
 */
import type { ApiVersion, LogEntry } from '../report';
import { ConfigError } from '../errors';
import { PROFILES, settleApiVersion, type ApiProfile } from './api';
import { createAuth, createAuthorizedSend } from './auth';
import { findDeletionSession, submitDelete } from './deleteGuard';
import { listVirtualMachines } from './discovery';
import { listDeletionSessions } from './deletionSessions';
import { VeeamApiError, VeeamApiVersionError, VeeamNetworkError } from './errors';
import { listRestorePoints, planDeletion } from './snapshots';
import { createAdaptiveIntervalPolicy } from './interval';
import { RETRY_DEFAULTS, withRetry, type GuardedSend, type RetryRuntime } from './retry';
import { systemClock } from '../clock';
import { createScheduler } from './scheduler';
import {
  createSessionAdapter,
  createSessionPoller,
  restoreSessionPoller,
  type SessionAdapter,
} from './session';
import { itemsForVm, lastEntries, parseSessionLog, vmStatus, type LogItem } from './sessionLog';
import { createSessionReader } from './sessionReader';
import { createTransport, type TransportRequest, type TransportResponse } from './transport';
import type {
  CallOptions,
  DeleteSubmission,
  PointDeleteSubmission,
  RequestCounts,
  VeeamClient,
  VeeamClientOptions,
} from './types';
import { parseApplianceUrl } from './url';
import { jobSessionSchema, parseWire } from './wire';

export const CLIENT_DEFAULTS = {
  apiVersion: 'auto',
  requestTimeoutMs: 30_000,
  maxInFlight: 32,
  runningPageMinSessions: 4,
} as const;

export function createVeeamClient(options: VeeamClientOptions): VeeamClient {
  const baseUrl = parseApplianceUrl(options.baseUrl, 'baseUrl');
  if (!options.username) throw new ConfigError('username', 'is empty');
  if (!options.password) throw new ConfigError('password', 'is empty');
  const basePath = baseUrl.pathname.replace(/\/+$/, '');
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const retryOptions = { ...RETRY_DEFAULTS, ...definedOnly(options.retry ?? {}) };
  const runtime: RetryRuntime = {
    sleep: (ms, signal) => clock.sleep(ms, signal),
    random: options.random ?? Math.random,
    now,
  };
  const counts: RequestCounts = { auth: 0, delete: 0, poll: 0, list: 0, other: 0 };
  const warn = (message: string) => options.onWarning?.(message);

  let secrets: () => string[] = () => [options.password];
  const maxInFlight = options.maxInFlight ?? CLIENT_DEFAULTS.maxInFlight;
  const transport = createTransport({
    baseUrl,
    caCert: options.caCert,
    requestTimeoutMs: options.requestTimeoutMs ?? CLIENT_DEFAULTS.requestTimeoutMs,
    maxInFlight,
    secrets: () => secrets(),
    clock,
    onRequest: (info) => {
      counts[info.kind] += 1;
      options.onRequest?.(info);
    },
    onSettled: () => scheduler.wake(),
  });

  const retrying: GuardedSend = (request, { canRetry, onAttempt } = {}) =>
    withRetry(
      () => {
        onAttempt?.();
        return transport.send(request);
      },
      {
        options: retryOptions,
        runtime,
        canRetry,
        abortSignal: request.abortSignal,
        onRetry: ({ retryCount, delayMs, strategy, error }) =>
          options.onRetry?.({
            method: request.method,
            path: request.route,
            retryCount,
            delayMs,
            strategy,
            reason: retryReason(error),
          }),
      },
    );

  const auth = createAuth({
    username: options.username,
    password: options.password,
    send: (request) => retrying(request, {}),
    clock,
  });
  secrets = () => auth.secrets();

  const authorized = createAuthorizedSend(auth, retrying);

  const get = (path: string, route: string, kind: TransportRequest['kind'], abortSignal?: AbortSignal) =>
    authorized({ method: 'GET', path, route, kind, abortSignal }, {});

  let apiVersion: ApiVersion | undefined;
  let connecting: Promise<{ apiVersion: ApiVersion }> | undefined;
  const setting = options.apiVersion ?? CLIENT_DEFAULTS.apiVersion;

  function connect(callOptions: CallOptions = {}) {
    connecting ??= (async () => {
      await auth.getToken(callOptions.abortSignal);
      const version = await settleApiVersion(setting, (r) => authorized(r, {}), callOptions.abortSignal);
      apiVersion = version;
      return { apiVersion: version };
    })().catch((error) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  }

  const profile = async (callOptions?: CallOptions): Promise<ApiProfile> =>
    PROFILES[(await connect(callOptions)).apiVersion];

  // Polls fall due by the thousand at once. Each is released only into a free request slot, so the rest wait
  // as small scheduler entries rather than as whole call chains queued in the transport. On v8.1 with
  // running pages a burst is released whole while a slot is free: a few pages answer all of it.
  const runningPageMinSessions =
    options.poll?.runningPageMinSessions ?? CLIENT_DEFAULTS.runningPageMinSessions;
  const admit = () => {
    const free = maxInFlight - transport.load;
    return apiVersion === 'v8.1' && runningPageMinSessions > 0 && free > 0 ? Infinity : free;
  };
  const scheduler = createScheduler(clock, { admit });
  const policy =
    options.poll?.policy ??
    createAdaptiveIntervalPolicy({
      initialIntervalMs: options.poll?.initialIntervalMs,
      maxIntervalMs: options.poll?.maxIntervalMs,
      now,
    });
  // One adapter (and session reader) per API version for every poller of this client: per-poller closures
  // would be thousands.
  const adapters = new Map<ApiVersion, SessionAdapter>();
  const adapterFor = (p: ApiProfile): SessionAdapter => {
    let adapter = adapters.get(p.version);
    if (!adapter) {
      adapter = createSessionAdapter({
        origin: transport.origin,
        basePath,
        scheduler,
        reader: createSessionReader({
          profile: p,
          runningPageMinSessions,
          getJson: (path, route) => get(path, route, 'poll'),
          now,
        }),
        policy,
        getLog: (lp, sessionId, abortSignal) => readLog(lp, sessionId, abortSignal),
        onWarning: warn,
        now,
      });
      adapters.set(p.version, adapter);
    }
    return adapter;
  };
  const requireProfile = (): ApiProfile => {
    if (!apiVersion) throw new Error('createSessionPoller: call connect() (or submit a delete) first');
    return PROFILES[apiVersion];
  };

  /** Sessions this client created or adopted: the delete guard never adopts one of them for another delete. */
  const claimed = new Set<string>();
  const guard = (p: ApiProfile) => ({
    profile: p,
    send: authorized,
    clock,
    claimed,
    settleMs: options.deleteCheckSettleMs,
  });
  const claim = (route: string, body: unknown) => {
    const session = parseWire(jobSessionSchema, body, route);
    claimed.add(session.id);
    return session;
  };
  const bulkAnswer = (p: ApiProfile, response: TransportResponse, attempts: number): DeleteSubmission =>
    response.status === 204
      ? { kind: 'nothingToDelete', attempts }
      : { kind: 'session', session: claim(p.deleteRoute, response.body), attempts };

  async function readLog(p: ApiProfile, sessionId: string, abortSignal?: AbortSignal): Promise<LogItem[]> {
    const { body } = await get(p.sessionLogPath(sessionId), p.sessionLogRoute, 'poll', abortSignal);
    return parseSessionLog(body, p.sessionLogRoute);
  }

  async function getSessionLog(sessionId: string, callOptions: CallOptions = {}): Promise<LogEntry[]> {
    const p = await profile(callOptions);
    return lastEntries(await readLog(p, sessionId, callOptions.abortSignal));
  }

  return {
    origin: transport.origin,
    connect,
    get apiVersion() {
      return apiVersion;
    },
    async deleteSnapshots(vmId, callOptions = {}) {
      const p = await profile(callOptions);
      return submitDelete(guard(p), {
        request: {
          method: 'POST',
          path: p.deletePath(vmId),
          route: p.deleteRoute,
          kind: 'delete',
          abortSignal: callOptions.abortSignal,
        },
        vmId,
        knownSessionIds: callOptions.knownSessionIds,
        read: (response, attempts) => bulkAnswer(p, response, attempts),
        adopted: (session, attempts) => ({ kind: 'session', session, attempts }),
      });
    },
    async deleteSnapshotsBatch(vmIds, callOptions = {}) {
      const p = await profile(callOptions);
      if (!p.batchDeletePath) {
        throw new VeeamApiVersionError(p.version, 'batch deletes need v8.1');
      }
      if (vmIds.length === 0) throw new RangeError('deleteSnapshotsBatch: no VM ids given');
      return submitDelete(guard(p), {
        request: {
          method: 'POST',
          path: p.batchDeletePath,
          route: p.batchDeletePath,
          kind: 'delete',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ids: vmIds }),
          abortSignal: callOptions.abortSignal,
        },
        vmId: vmIds[0],
        knownSessionIds: callOptions.knownSessionIds,
        read: (response, attempts) => bulkAnswer(p, response, attempts),
        adopted: (session, attempts) => ({ kind: 'session', session, attempts }),
      });
    },
    async deleteRestorePoint(vmId, restorePointId, callOptions = {}): Promise<PointDeleteSubmission> {
      const p = await profile(callOptions);
      if (!p.restorePointPath || !p.restorePointRoute) {
        throw new VeeamApiVersionError(p.version, 'restore points can only be deleted on v8.1');
      }
      return submitDelete<PointDeleteSubmission>(guard(p), {
        request: {
          method: 'DELETE',
          path: p.restorePointPath(restorePointId),
          route: p.restorePointRoute,
          kind: 'delete',
          abortSignal: callOptions.abortSignal,
        },
        vmId,
        knownSessionIds: callOptions.knownSessionIds,
        read: (response, attempts) => ({
          kind: 'session',
          session: claim(p.restorePointRoute!, response.body),
          attempts,
        }),
        adopted: (session, attempts) => ({ kind: 'session', session, attempts }),
        failed(error, attempts) {
          if (error instanceof VeeamApiError && error.status === 404) return { kind: 'gone', attempts };
          if (error instanceof VeeamApiError && error.status === 423) {
            return { kind: 'locked', attempts, message: error.detail ?? error.title ?? 'Locked' };
          }
          throw error;
        },
      });
    },
    async planDeletion(vmId, callOptions = {}) {
      return planDeletion({ profile: await profile(callOptions), send: authorized }, vmId, callOptions);
    },
    async listRestorePoints(vmId, callOptions = {}) {
      return listRestorePoints({ profile: await profile(callOptions), send: authorized }, vmId, callOptions);
    },
    async listVirtualMachines(callOptions = {}) {
      const deps = { profile: await profile(callOptions), send: authorized, onWarning: warn };
      return listVirtualMachines(deps, callOptions);
    },
    async findDeletionSession(vmId, { sinceMs, knownSessionIds, abortSignal }) {
      const p = await profile({ abortSignal });
      if (!p.sessionsPath)
        throw new VeeamApiVersionError(p.version, 'sessions can only be looked for on v8.1');
      const found = await findDeletionSession(guard(p), { vmId, sinceMs, knownSessionIds, abortSignal });
      if (found) claimed.add(found.id);
      return found;
    },
    async listDeletionSessions(callOptions) {
      return listDeletionSessions(await profile(callOptions), authorized, callOptions);
    },
    async getSession(sessionId, callOptions = {}) {
      const p = await profile(callOptions);
      const { body } = await get(p.sessionPath(sessionId), p.sessionRoute, 'poll', callOptions.abortSignal);
      return parseWire(jobSessionSchema, body, p.sessionRoute);
    },
    getSessionLog,
    async splitBatchResult(result, vmIds, callOptions = {}) {
      if (result.status !== 'Warning' && result.status !== 'Error') {
        return new Map(vmIds.map((vmId) => [vmId, result]));
      }
      const status = result.status;
      const items = await readLog(await profile(callOptions), result.sessionId, callOptions.abortSignal);
      return new Map(
        vmIds.map((vmId) => {
          const mine = itemsForVm(items, vmId);
          return [vmId, { ...result, status: vmStatus(mine, status), log: lastEntries(mine) }];
        }),
      );
    },
    logout: (callOptions = {}) => auth.logout(callOptions.abortSignal),
    createSessionPoller(session, pollerOptions) {
      const p = requireProfile();
      return createSessionPoller(adapterFor(p), p, session, pollerOptions);
    },
    restorePoller(serialized) {
      return restoreSessionPoller(adapterFor(requireProfile()), serialized);
    },
    get requestCounts() {
      return { ...counts };
    },
    close() {
      scheduler.close();
      transport.close();
    },
  };
}

/** What made a request fail, for a retry log line: a status or a network code, never a body. */
function retryReason(error: unknown): string {
  if (error instanceof VeeamApiError) return `status ${error.status}`;
  if (error instanceof VeeamNetworkError) return error.code;
  return error instanceof Error ? error.name : 'error';
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
