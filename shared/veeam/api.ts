/**
 * The two API generations as data plus small functions: paths, session types and what each can do.
 * Generic code (client, delete guard, poller) asks the profile; nothing else spells a versioned path.
 */
import type { ApiVersion } from '../report';
import { VeeamAccessError, VeeamApiError, VeeamApiVersionError } from './errors';
import type { TransportRequest, TransportResponse } from './transport';

export interface ApiProfile {
  version: ApiVersion;
  /** e.g. /api/v8.1 */
  base: string;
  deletePath(vmId: string): string;
  deleteRoute: string;
  /** v8.1 only: one delete for many VMs, body {"ids":[…]}. */
  batchDeletePath?: string;
  vmPath(vmId: string): string;
  /** GET: the paged listing of every VM the appliance sees (discovery). */
  vmListPath: string;
  /** v8.1 only: the listing takes the discovery filters (SubscriptionId, RegionIds, SearchPattern, ...). */
  vmListFilters: boolean;
  /** Names of the paging parameters: v8.1 documents Offset/Limit, v1 answers the lower-case ones its probe sends. */
  pageParams: { offset: string; limit: string };
  sessionPath(sessionId: string): string;
  sessionLogPath(sessionId: string): string;
  /** Routes (ids templated) of the session and its log, for telemetry and request counts. */
  sessionRoute: string;
  sessionLogRoute: string;
  /** v8.1 only: GET /jobSessions with filters, used to find a delete after an ambiguous failure. */
  sessionsPath?: string;
  /** v8.1 only: restore points of one VM, for a dry run. */
  restorePointsPath?(vmId: string): string;
  /** v8.1 only: DELETE of one restore point. */
  restorePointPath?(restorePointId: string): string;
  restorePointRoute?: string;
  /** Session types a snapshot delete of this generation creates. */
  deleteSessionTypes: readonly string[];
  /** One cheap authenticated GET that only an appliance speaking this generation answers with 2xx. */
  versionCheckPath: string;
  versionCheckRoute: string;
}

const enc = encodeURIComponent;

export const V1: ApiProfile = {
  version: 'v1',
  base: '/api/v1',
  deletePath: (id) => `/api/v1/virtualMachines/${enc(id)}/deleteSnapshots`,
  deleteRoute: '/api/v1/virtualMachines/{id}/deleteSnapshots',
  vmPath: (id) => `/api/v1/virtualMachines/${enc(id)}`,
  vmListPath: '/api/v1/virtualMachines',
  vmListFilters: false,
  pageParams: { offset: 'offset', limit: 'limit' },
  sessionPath: (id) => `/api/v1/jobSessions/${enc(id)}`,
  sessionLogPath: (id) => `/api/v1/jobSessions/${enc(id)}/log`,
  sessionRoute: '/api/v1/jobSessions/{id}',
  sessionLogRoute: '/api/v1/jobSessions/{id}/log',
  deleteSessionTypes: ['SnapshotDeletion'],
  versionCheckPath: '/api/v1/virtualMachines?limit=1',
  versionCheckRoute: '/api/v1/virtualMachines',
};

export const V8_1: ApiProfile = {
  version: 'v8.1',
  base: '/api/v8.1',
  deletePath: (id) => `/api/v8.1/protectedItem/virtualMachines/${enc(id)}/deleteManualSnapshots`,
  deleteRoute: '/api/v8.1/protectedItem/virtualMachines/{id}/deleteManualSnapshots',
  batchDeletePath: '/api/v8.1/protectedItem/virtualMachines/deleteManualSnapshots',
  vmPath: (id) => `/api/v8.1/virtualMachines/${enc(id)}`,
  vmListPath: '/api/v8.1/virtualMachines',
  vmListFilters: true,
  pageParams: { offset: 'Offset', limit: 'Limit' },
  sessionPath: (id) => `/api/v8.1/jobSessions/${enc(id)}`,
  sessionLogPath: (id) => `/api/v8.1/jobSessions/${enc(id)}/log`,
  sessionRoute: '/api/v8.1/jobSessions/{id}',
  sessionLogRoute: '/api/v8.1/jobSessions/{id}/log',
  sessionsPath: '/api/v8.1/jobSessions',
  restorePointsPath: (id) => `/api/v8.1/restorePoints/virtualMachines?VirtualMachineId=${enc(id)}`,
  restorePointPath: (id) => `/api/v8.1/restorePoints/virtualMachines/${enc(id)}`,
  restorePointRoute: '/api/v8.1/restorePoints/virtualMachines/{id}',
  deleteSessionTypes: ['ManualSnapshotDeletion', 'SnapshotDeletion'],
  versionCheckPath: '/api/v8.1/system/about',
  versionCheckRoute: '/api/v8.1/system/about',
};

export const PROFILES: Record<ApiVersion, ApiProfile> = { v1: V1, 'v8.1': V8_1 };

/** Replaces the id segments of a concrete path with {id}, for telemetry and request counts. */
export function routeOf(path: string): string {
  return path
    .split('?')[0]
    .replace(
      /\/(virtualMachines|jobSessions)\/(?!deleteManualSnapshots$|deleteSnapshots$)[^/]+/g,
      '/$1/{id}',
    );
}

type Send = (request: TransportRequest) => Promise<TransportResponse>;

/**
 * Settles the API version after login, with the bearer token (`send` is authorised): 'auto' asks v8.1 and
 * takes only a 404 as "no v8.1", then checks v1 the same way; a pinned version is checked once, so a wrong
 * pin fails here instead of once per VM. A 401/403 (the account, or a proxy in front) is VeeamAccessError.
 */
export async function settleApiVersion(
  setting: ApiVersion | 'auto',
  send: Send,
  abortSignal?: AbortSignal,
): Promise<ApiVersion> {
  if (setting !== 'auto') {
    if (!(await answers(PROFILES[setting], send, abortSignal))) {
      throw new VeeamApiVersionError(setting, `the appliance has no ${PROFILES[setting].base} API`);
    }
    return setting;
  }
  if (await answers(V8_1, send, abortSignal)) return 'v8.1';
  if (await answers(V1, send, abortSignal)) return 'v1';
  throw new VeeamApiVersionError('auto', 'the appliance answers neither /api/v8.1 nor /api/v1');
}

/** True on 2xx, false on 404; 401/403 become VeeamAccessError; anything else is rethrown as it is. */
async function answers(profile: ApiProfile, send: Send, abortSignal?: AbortSignal): Promise<boolean> {
  try {
    await send({
      method: 'GET',
      path: profile.versionCheckPath,
      route: profile.versionCheckRoute,
      kind: 'other',
      abortSignal,
    });
    return true;
  } catch (error) {
    if (!(error instanceof VeeamApiError)) throw error;
    if (error.status === 404) return false;
    if (error.status === 401 || error.status === 403) {
      throw new VeeamAccessError(error.status, profile.versionCheckRoute);
    }
    throw error;
  }
}
