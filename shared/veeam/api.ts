/**
 * The two API generations as data plus small functions: paths, session types and what each can do.
 * Generic code (client, delete guard, poller) asks the profile; nothing else spells a versioned path.
 */
import type { ApiVersion } from '../report';
import { VeeamApiError } from './errors';
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
  sessionPath(sessionId: string): string;
  sessionLogPath(sessionId: string): string;
  /** Routes (ids templated) of the session and its log, for telemetry and request counts. */
  sessionRoute: string;
  sessionLogRoute: string;
  /** v8.1 only: GET /jobSessions with filters, used to find a delete after an ambiguous failure. */
  sessionsPath?: string;
  /** v8.1 only: restore points of one VM, for a dry run. */
  restorePointsPath?(vmId: string): string;
  /** Session types a snapshot delete of this generation creates. */
  deleteSessionTypes: readonly string[];
}

const enc = encodeURIComponent;

export const V1: ApiProfile = {
  version: 'v1',
  base: '/api/v1',
  deletePath: (id) => `/api/v1/virtualMachines/${enc(id)}/deleteSnapshots`,
  deleteRoute: '/api/v1/virtualMachines/{id}/deleteSnapshots',
  vmPath: (id) => `/api/v1/virtualMachines/${enc(id)}`,
  sessionPath: (id) => `/api/v1/jobSessions/${enc(id)}`,
  sessionLogPath: (id) => `/api/v1/jobSessions/${enc(id)}/log`,
  sessionRoute: '/api/v1/jobSessions/{id}',
  sessionLogRoute: '/api/v1/jobSessions/{id}/log',
  deleteSessionTypes: ['SnapshotDeletion'],
};

export const V8_1: ApiProfile = {
  version: 'v8.1',
  base: '/api/v8.1',
  deletePath: (id) => `/api/v8.1/protectedItem/virtualMachines/${enc(id)}/deleteManualSnapshots`,
  deleteRoute: '/api/v8.1/protectedItem/virtualMachines/{id}/deleteManualSnapshots',
  batchDeletePath: '/api/v8.1/protectedItem/virtualMachines/deleteManualSnapshots',
  vmPath: (id) => `/api/v8.1/virtualMachines/${enc(id)}`,
  sessionPath: (id) => `/api/v8.1/jobSessions/${enc(id)}`,
  sessionLogPath: (id) => `/api/v8.1/jobSessions/${enc(id)}/log`,
  sessionRoute: '/api/v8.1/jobSessions/{id}',
  sessionLogRoute: '/api/v8.1/jobSessions/{id}/log',
  sessionsPath: '/api/v8.1/jobSessions',
  restorePointsPath: (id) => `/api/v8.1/restorePoints/virtualMachines?VirtualMachineId=${enc(id)}`,
  deleteSessionTypes: ['ManualSnapshotDeletion', 'SnapshotDeletion'],
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

export const PROBE_PATH = '/api/v8.1/system/serviceIsUp';

/**
 * 'auto': one unauthenticated GET of the v8.1 health probe. 2xx means v8.1; a 4xx answer (the path does not
 * exist on a v1 appliance) means v1. Anything else (unreachable, TLS, 5xx after retries) is rethrown rather
 * than guessed.
 */
export async function detectApiVersion(
  send: (request: TransportRequest) => Promise<TransportResponse>,
  abortSignal?: AbortSignal,
): Promise<ApiVersion> {
  try {
    await send({ method: 'GET', path: PROBE_PATH, route: PROBE_PATH, kind: 'other', abortSignal });
    return 'v8.1';
  } catch (error) {
    if (error instanceof VeeamApiError && error.status >= 400 && error.status < 500 && error.status !== 429) {
      return 'v1';
    }
    throw error;
  }
}
