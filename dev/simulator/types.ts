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
  | 'v8.1.getRestorePoint'
  | 'v8.1.deleteRestorePoint'
  | 'v8.1.listSessions'
  | 'v8.1.getSession'
  | 'v8.1.getSessionLog';

export type ApiGeneration = 'v1' | 'v8.1';

export type SessionOutcome = 'Success' | 'Warning' | 'Error';

export type SimBackupDestination = 'ManualSnapshot' | 'Snapshot' | 'AzureBlob';

/** One restore point of a VM, with times relative to the simulator's clock when the VM is created. */
export interface SimRestorePointSpec {
  /** default: a seeded UUID (the official schema wants a uuid). */
  id?: string;
  /** default 'ManualSnapshot'. */
  backupDestination?: SimBackupDestination;
  /** How old the point is (pointInTime = now - ageMs); default 1 day. */
  ageMs?: number;
  /** immutableTill = now + immutableForMs (negative: immutability that has already passed); default none. */
  immutableForMs?: number;
  /** The appliance refuses to delete it (per-point DELETE answers 423). */
  locked?: boolean;
}

/**
 * A seeded mix of restore points for VMs that name none of their own (no `restorePoints`, `manualSnapshots`
 * or `policySnapshots` in the spec).
 */
export interface SimPointMix {
  /** Manual points per VM, drawn uniformly (default { min: 0, max: 6 }). */
  manualPerVm?: { min: number; max: number };
  /** Non-manual points per VM, alternating Snapshot / AzureBlob (default 2). */
  policyPerVm?: number;
  /**
   * Relative weights of the age buckets a manual point's age is drawn from: hours (1-23 h), days (1-29 d),
   * months (1-12 x 30 d). Default 1 each.
   */
  ageWeights?: { hours?: number; days?: number; months?: number };
  /** Fraction of manual points immutable until a future date, now + 1-90 d (default 0.1). */
  immutableRate?: number;
  /** Fraction of manual points whose immutability already ended, 1-30 d ago (default 0.05). */
  expiredImmutableRate?: number;
  /** Fraction of manual points that are locked: DELETE answers 423 (default 0.05). */
  lockedRate?: number;
}

export interface SimVmSpec {
  /** v1-style 52-char z-base-32 ids or UUIDs; any [A-Za-z0-9-]+. */
  id: string;
  /** Display name (default derived from the id). */
  name?: string;
  /** ManualSnapshot restore points, 1, 2, ... days old (default 2, or the simulator's pointMix). */
  manualSnapshots?: number;
  /** Snapshot + AzureBlob points, never touched by a manual delete (default 2, or the pointMix). */
  policySnapshots?: number;
  /** Explicit restore points; when given, manualSnapshots / policySnapshots / pointMix are ignored. */
  restorePoints?: SimRestorePointSpec[];
  /** default: one of the simulator's subscriptionIds, drawn from the seed. */
  subscriptionId?: string;
  /** default: one of the simulator's resourceGroups, drawn from the seed. */
  resourceGroupName?: string;
  /** Azure region name, also the region id RegionIds filters on (default: the simulator's regions). */
  regionName?: string;
  /** The appliance's own VM (default false). */
  isController?: boolean;
  /** The VM no longer exists in Azure (default false). */
  isDeleted?: boolean;
  /** How long its deletion session stays Running (default: the simulator's sessionDurationMs). */
  sessionDurationMs?: number;
  /** How its session ends (default: drawn from the simulator's outcomes, i.e. Success). */
  outcome?: SessionOutcome;
  /** Its sessions stay Running forever. */
  stuck?: boolean;
}

export type FaultKind =
  | 'latency'
  | 'status'
  | 'drop'
  | 'slow'
  | 'malformedJson'
  | 'foreignSelfLink'
  | 'stuck'
  | 'vanish'
  | 'ignoreFilters'
  | 'ignoreOffset'
  | 'inflateTotalCount';

export interface FaultRule {
  route: SimRoute | '*';
  /**
   * 'stuck' (delete routes only): the session the request creates stays Running forever.
   * 'vanish' (v8.1.deleteRestorePoint only): the point is removed just before the DELETE is handled, as if
   * someone deleted it between the listing and the DELETE, so the DELETE answers 404.
   * The VM listings only (v1.listVms, v8.1.listVms), for clients that must not trust a listing:
   * 'ignoreFilters' answers every VM whatever the filters (BackupDestination, SubscriptionId, RegionIds,
   * SearchPattern, ExistsState; they are still validated); 'ignoreOffset' answers the first page whatever
   * Offset asks for; 'inflateTotalCount' adds 1,000,000 to totalCount (pages past the end come back empty).
   */
  kind: FaultKind;
  /** 0..1, default 1 (drawn from the seeded RNG). */
  probability?: number;
  /** Apply at most N times, then the rule is spent (default unlimited). */
  times?: number;
  /** Only requests about this VM (path id, listed in a batch body, or owning the restore point). */
  vmId?: string;
  /** Only requests about this restore point (the per-point routes). */
  restorePointId?: string;
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
  fleet?: {
    count: number;
    idStyle?: 'v1' | 'uuid';
    /** Names are `${prefix}${NN}` with the prefixes used round-robin (default ['vm-']). */
    namePrefixes?: string[];
    /** Fraction of the generated VMs marked isDeleted, seeded (default 0). */
    deletedRate?: number;
  };
  /**
   * Adds the appliance's own VM (isController: true, name 'vbazure-appliance', 1 manual snapshot) as the
   * first VM; an object overrides parts of its spec. Default false (startSimulators and the CLI: true).
   */
  controller?: boolean | Partial<SimVmSpec>;
  /** Restore points of VMs that name none of their own (default: 2 manual + 2 policy points). */
  pointMix?: SimPointMix;
  /** Subscriptions VMs without their own are spread over, seeded (default 2 seeded UUIDs). */
  subscriptionIds?: string[];
  /** Resource groups, seeded (default ['rg-app', 'rg-data', 'rg-legal-hold']). */
  resourceGroups?: string[];
  /** Regions, seeded (default westeurope, northeurope, eastus, ukwest). */
  regions?: string[];
  /** The appliance's clock (default Date.now); share a fake clock with the engine to test ages exactly. */
  now?: () => number;
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
  /** Keep every request line in `requestLog` (default false: a long bench run would hoard them). */
  recordRequests?: boolean;
}

export interface SimulatorCounters {
  /** SimRoute -> count (unknown routes under 'unknown'). */
  requestsByRoute: Record<string, number>;
  /** vmId -> bulk delete requests that were PROCESSED (v1 deleteSnapshots, v8.1 single + batch). */
  deleteCallsByVm: Record<string, number>;
  /** vmId -> per-point DELETEs PROCESSED for its points (answered 202, 423, or 404 for a former point). */
  pointDeleteCallsByVm: Record<string, number>;
  /** restorePointId -> per-point DELETEs PROCESSED (202, 404 or 423; injected faults are not counted). */
  pointDeleteCallsByPoint: Record<string, number>;
  /** How the processed per-point DELETEs were answered. */
  pointDeleteAnswers: { accepted: number; notFound: number; locked: number };
  /** Origin the request was addressed to (scheme://Host header) -> requests carrying an Authorization header. */
  authorizationByOrigin: Record<string, number>;
  tokensIssued: { password: number; refresh: number };
}

export interface SimRestorePointView {
  id: string;
  backupDestination: string;
  /** ISO-8601 UTC. */
  pointInTime: string;
  /** ISO-8601 UTC, or null. */
  immutableTill: string | null;
  locked: boolean;
}

/** A session that is not a snapshot deletion (backup, restore ...), for tests of what must not be read. */
export interface SimSessionSpec {
  /** A JobSessionType value, e.g. 'PolicyBackup', 'ManualSnapshot', 'RestoreVms'. */
  type: string;
  vmIds: string[];
  /** How long it stays Running (default 0: ended at once). */
  durationMs?: number;
  /** default 'Success'. */
  outcome?: SessionOutcome;
}

export interface SimSessionView {
  id: string;
  vmIds: string[];
  status: string;
  type: string;
  /** The restore points the session removes (empty for non-deletion sessions). */
  restorePointIds: string[];
}

export interface SimulatorHandle {
  /** e.g. http://127.0.0.1:54321 (no trailing slash). */
  url: string;
  /** Same as url. */
  origin: string;
  /** The first configured user (what the CLI prints). */
  credentials: SimUser;
  /** Id of the controller VM, when the simulator has one. */
  controllerVmId?: string;
  counters: SimulatorCounters;
  /**
   * With `recordRequests`: `${method} ${path}?${query}` of every request, as sent (query undecoded), in
   * arrival order; the counters path is left out. Otherwise stays empty.
   */
  requestLog: string[];
  resetCounters(): void;
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  /** Add or replace a VM (its restore points are rebuilt from the spec). */
  setVm(spec: SimVmSpec): void;
  /** The VM with every ended session applied: its remaining restore points. */
  getVm(id: string): { spec: SimVmSpec; restorePoints: SimRestorePointView[] } | undefined;
  /** All VM ids, in listing order. */
  vmIds(): string[];
  /** Adds a restore point to an existing VM (e.g. "an admin took one a minute ago"); returns its view. */
  addRestorePoint(vmId: string, spec?: SimRestorePointSpec): SimRestorePointView;
  /** Starts a session of any type, e.g. a PolicyBackup (not a deletion: it removes nothing). */
  addSession(spec: SimSessionSpec): SimSessionView;
  sessions(): SimSessionView[];
  /** Every issued access token is now expired (401 on next use). */
  expireAccessTokens(): void;
  /** Every refresh token is now rejected. */
  revokeRefreshTokens(): void;
  close(): Promise<void>;
}
