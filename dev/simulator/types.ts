/** Public types of the appliance simulator (the contract in notes/simulator-api.md). */

export type SimRoute =
  | 'token'
  | 'token.delete'
  | 'v1.listVms'
  | 'v1.getVm'
  | 'v1.deleteSnapshots'
  | 'v1.getSession'
  | 'v1.getSessionLog'
  | 'v8.1.serviceIsUp'
  | 'v8.1.about'
  | 'v8.1.listVms'
  | 'v8.1.getVm'
  | 'v8.1.deleteManualSnapshots'
  | 'v8.1.batchDeleteManualSnapshots'
  | 'v8.1.restorePoints'
  | 'v8.1.listSessions'
  | 'v8.1.getSession'
  | 'v8.1.getSessionLog';

export type ApiGeneration = 'v1' | 'v8.1';

export type SessionOutcome = 'Success' | 'Warning' | 'Error';

export interface SimVmSpec {
  /** v1-style 52-char z-base-32 ids or UUIDs; any [A-Za-z0-9-]+. */
  id: string;
  /** Display name (default derived from the id). */
  name?: string;
  /** ManualSnapshot restore points (default 2). */
  manualSnapshots?: number;
  /** Snapshot + AzureBlob points, never touched by a manual delete (default 2). */
  policySnapshots?: number;
  /** How long its deletion session stays Running (default: the simulator's sessionDurationMs). */
  sessionDurationMs?: number;
  /** How its session ends (default: drawn from the simulator's outcomes, i.e. Success). */
  outcome?: SessionOutcome;
  /** Its sessions stay Running forever. */
  stuck?: boolean;
}

export type FaultKind =
  'latency' | 'status' | 'drop' | 'slow' | 'malformedJson' | 'foreignSelfLink' | 'stuck';

export interface FaultRule {
  route: SimRoute | '*';
  /** 'stuck' (delete routes only): the session the request creates stays Running forever. */
  kind: FaultKind;
  /** 0..1, default 1 (drawn from the seeded RNG). */
  probability?: number;
  /** Apply at most N times, then the rule is spent (default unlimited). */
  times?: number;
  /** Only requests about this VM (path id, or listed in a batch body). */
  vmId?: string;
  /** 'latency': added delay before handling. */
  latencyMs?: number;
  /** 'status': answer this instead of handling (the request is NOT processed). */
  status?: 429 | 500 | 502 | 503;
  /** 'status': value of Retry-After ("1" or an HTTP-date); omitted = no header. */
  retryAfter?: string;
  /** 'drop': destroy the socket before processing (default) or after the request was processed. */
  phase?: 'before' | 'after';
  /** 'slow': process the request, then wait this long before answering. */
  delayMs?: number;
  /** 'foreignSelfLink': _links hrefs point at this origin instead (default http://foreign.invalid). */
  foreignOrigin?: string;
}

export interface SimUser {
  username: string;
  password: string;
  /** The Password grant answers with an MFA challenge and no access token. */
  mfa?: boolean;
}

export interface SimulatorOptions {
  /** default 0 (ephemeral). */
  port?: number;
  /** default '127.0.0.1'. */
  host?: string;
  /** PEM certificate and key; serve https (default plain http). */
  tls?: { cert: string; key: string };
  /** API generations served (default both); others -> 404. */
  versions?: ApiGeneration[];
  /** default [{ username: 'veeam-admin', password: 'veeam-password' }]. */
  users?: SimUser[];
  /** default 3600; fractions allowed so tests can expire tokens mid-run. */
  accessTokenLifetimeSec?: number;
  /** default 14 days. */
  refreshTokenLifetimeSec?: number;
  /** Explicit fleet (takes precedence over `fleet`). */
  vms?: SimVmSpec[];
  /** Generated fleet, deterministic from the seed (default { count: 5, idStyle: 'v1' } when `vms` is absent). */
  fleet?: { count: number; idStyle?: 'v1' | 'uuid' };
  /** Seeds every random choice (default 1). */
  seed?: number;
  /** Session duration for VMs without their own (default 200 ms). */
  sessionDurationMs?: number | { min: number; max: number };
  /** Probabilities of Warning / Error endings for VMs without their own outcome (default 0 / 0). */
  outcomes?: { warning?: number; error?: number };
  /** Added to every request (default 0). */
  latencyMs?: number;
  /** Fault rules applied in order (default none). */
  faults?: FaultRule[];
  /** Cap on Limit (default 1000). */
  maxPageSize?: number;
}

export interface SimulatorCounters {
  /** SimRoute -> count (unknown routes under 'unknown'). */
  requestsByRoute: Record<string, number>;
  /** vmId -> delete requests that were PROCESSED (single + batch). */
  deleteCallsByVm: Record<string, number>;
  /** Origin the request was addressed to (scheme://Host header) -> requests carrying an Authorization header. */
  authorizationByOrigin: Record<string, number>;
  tokensIssued: { password: number; refresh: number };
}

export interface SimRestorePointView {
  id: string;
  backupDestination: string;
}

export interface SimSessionView {
  id: string;
  vmIds: string[];
  status: string;
  type: string;
}

export interface SimulatorHandle {
  /** e.g. http://127.0.0.1:54321 (no trailing slash). */
  url: string;
  /** Same as url. */
  origin: string;
  counters: SimulatorCounters;
  resetCounters(): void;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  /** Add or replace a VM (its restore points are rebuilt from the spec). */
  setVm(spec: SimVmSpec): void;
  getVm(id: string): { spec: SimVmSpec; restorePoints: SimRestorePointView[] } | undefined;
  sessions(): SimSessionView[];
  /** Every issued access token is now expired (401 on next use). */
  expireAccessTokens(): void;
  /** Every refresh token is now rejected. */
  revokeRefreshTokens(): void;
  close(): Promise<void>;
}
