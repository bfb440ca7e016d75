/**
 * The public surface of the Veeam appliance client. The engine, the functions, the CLI and the
 * benchmark depend on these types only; everything else under shared/veeam/ is an implementation detail.
 */
import type { Clock } from '../clock';
import type { DiscoveryFilter } from '../config/types';
import type { ApiVersion, LogEntry, SnapshotInfo } from '../report';

export type ApiVersionSetting = ApiVersion | 'auto';

/** Statuses after which a session never changes again. */
export type TerminalSessionStatus = 'Success' | 'Warning' | 'Error' | 'Canceled' | 'NeverExecuted';

/** A job session as the appliance returns it (v1 and v8.1 share these fields). */
export interface JobSession {
  id: string;
  type?: string;
  status: string;
  executionStartTime?: string | null;
  executionStopTime?: string | null;
  executionDuration?: string | null;
  usn?: number;
  _links?: Record<string, { href: string }>;
}

/** A VM restore point as v8.1 lists it (GET /restorePoints/virtualMachines); items carry no VM id. */
export interface RestorePoint {
  id: string;
  /** Snapshot | AzureBlob | ManualSnapshot | Unknown; only ManualSnapshot points are cleanup targets. */
  backupDestination: string;
  /** ISO date-time of creation, as the appliance sent it (not validated here: the planner decides). */
  pointInTime?: string;
  /** ISO date-time until which the point cannot be deleted. */
  immutableTill?: string;
  vmName?: string;
  regionName?: string;
  type?: string;
  isCorrupted?: boolean;
  jobSessionId?: string;
}

/** Timing of the session poll schedule. Every value has a default tuned by `npm run bench`. */
export interface PollOptions {
  /** Delay before the first poll of a session. */
  initialIntervalMs?: number;
  /** Upper bound of the delay between two polls of one session. */
  maxIntervalMs?: number;
  /** Replaces the default adaptive schedule (built from the two values above) for every poller of the client. */
  policy?: PollIntervalPolicy;
  /**
   * v8.1: when at least this many sessions are due in the same tick, one GET /jobSessions?Status=Running page
   * replaces their single GETs (default 4; 0 turns it off).
   */
  runningPageMinSessions?: number;
}

export interface PollIntervalContext {
  sessionId: string;
  /** Time since the session was submitted (or its poller created), in ms. */
  elapsedMs: number;
  /** Polls of this session so far. */
  polls: number;
  /** elapsedMs at this session's last poll; undefined before the first. */
  lastPollElapsedMs?: number;
}

/** Decides when a running session is polled next; one instance is shared by all pollers of a client. */
export interface PollIntervalPolicy {
  /** Delay before the next poll; a Retry-After answer can only lengthen it. */
  nextDelayMs(context: PollIntervalContext): number;
  /** True when what other sessions teach can move a waiting poll, so waiting pollers keep re-asking. */
  readonly learns?: boolean;
  /** A session was still running at elapsedMs (its previous poll was at previousElapsedMs). */
  observeRunning?(elapsedMs: number, previousElapsedMs?: number): void;
  /** A session finished after durationMs (its last poll that saw it running was at previousElapsedMs). */
  observe?(durationMs: number, previousElapsedMs?: number): void;
}

export interface RetryOptions {
  /** Retries after the first attempt (default 4). */
  maxRetries?: number;
  /** Base of the exponential backoff (default 500 ms). */
  baseDelayMs?: number;
  /** Cap of one backoff delay, Retry-After included (default 30 s). */
  maxDelayMs?: number;
  /** Cap of the time spent retrying one request (default 2 min). */
  maxRetryTimeMs?: number;
}

/** What the client tells its caller about each HTTP exchange (for dependency telemetry). */
export interface RequestInfo {
  method: string;
  /** Path without query string or credentials, e.g. /api/v8.1/jobSessions/{id}. */
  path: string;
  /** list: VM, restore-point and deletion-session listings (and the delete guard's look for a session). */
  kind: 'auth' | 'delete' | 'poll' | 'list' | 'other';
  status?: number;
  durationMs: number;
  ok: boolean;
}

export interface VeeamClientOptions {
  /** https:// base URL of the appliance; http:// only for loopback hosts. */
  baseUrl: string;
  username: string;
  password: string;
  /**
   * default 'auto': after login, probe v8.1 with the token; only a 404 falls back to v1. A pinned version
   * is checked at connect (VeeamApiVersionError when the appliance lacks it).
   */
  apiVersion?: ApiVersionSetting;
  /** PEM certificate or CA to trust for a self-signed appliance. */
  caCert?: string;
  /** Per-request timeout (default 30 s). */
  requestTimeoutMs?: number;
  /** Global cap of requests in flight to the appliance (default 32). */
  maxInFlight?: number;
  retry?: RetryOptions;
  poll?: PollOptions;
  /** After an ambiguous delete failure, wait this long before looking for its session again (default 2 s). */
  deleteCheckSettleMs?: number;
  /**
   * The one source of time (default systemClock): request timeouts, retry waits, token refresh, the poll
   * schedule and deadlines, and the delete guard's settle wait all read it.
   */
  clock?: Clock;
  /** Source of retry jitter in [0, 1) (default Math.random); tests pass a fixed one. */
  random?: () => number;
  /** Called once per HTTP exchange. */
  onRequest?: (info: RequestInfo) => void;
  /** Called once per retry decision, before its wait (for one log line per retry). */
  onRetry?: (info: RetryNotice) => void;
  /** Called for conditions an admin should see but that don't fail a VM (e.g. a foreign self link). */
  onWarning?: (message: string) => void;
}

/** The answer to a delete request. */
export type DeleteSubmission =
  | { kind: 'session'; session: JobSession; attempts: number }
  /** v8.1 answered 204: nothing to delete, the VM is done. */
  | { kind: 'nothingToDelete'; attempts: number };

export interface DeletionPlan {
  vmId: string;
  vmName?: string;
  /** v8.1: the VM's ManualSnapshot restore points. v1: undefined (v1 cannot list them). */
  snapshots?: SnapshotInfo[];
}

export interface SessionResult {
  sessionId: string;
  /** A terminal status, or 'TimedOut' when the wait ended first. */
  status: TerminalSessionStatus | 'TimedOut';
  /** The last status the appliance reported. */
  lastStatus: string;
  session?: JobSession;
  /** The last 20 log entries, on Warning or Error (never on TimedOut: nothing is read after the wait). */
  log?: LogEntry[];
  polls: number;
}

export interface SessionProgress {
  sessionId: string;
  status: string;
  polls: number;
}

export interface PollUntilDoneOptions {
  abortSignal?: AbortSignal;
}

/** A core-lro style poller for one job session. */
export interface SessionPollerLike {
  readonly sessionId: string;
  isDone(): boolean;
  /** Resolves with the final result; never rejects for session failures, only reports them. */
  pollUntilDone(options?: PollUntilDoneOptions): Promise<SessionResult>;
  onProgress(callback: (progress: SessionProgress) => void): () => void;
  /** The session's progress as the last poll left it. */
  getOperationState(): SessionProgress;
  /** JSON that `restoreFrom` accepts to resume polling elsewhere. */
  serialize(): string;
}

export interface SessionPollerOptions {
  /** Ends the wait with status TimedOut (default 30 min). */
  maxWaitMs?: number;
  /**
   * Absolute epoch-ms deadline; the earlier of this and maxWaitMs wins. When it passes the result is
   * TimedOut at once: no last poll, no log read.
   */
  deadline?: number;
  /** For a v8.1 batch session: the VM whose part of the log decides the result. */
  vmId?: string;
}

export interface CallOptions {
  abortSignal?: AbortSignal;
}

export interface RequestCounts {
  auth: number;
  delete: number;
  poll: number;
  list: number;
  other: number;
}

export interface DeleteOptions extends CallOptions {
  /**
   * Deletion sessions that existed before this run submitted anything (DeletionSessionListing.knownIds):
   * after an ambiguous failure none of them is taken for this delete's session.
   */
  knownSessionIds?: ReadonlySet<string>;
}

export interface DeletionSessionListing {
  /** Ids of every deletion session that was running or had started since sinceMs when listed. */
  readonly knownIds: ReadonlySet<string>;
  /** The running deletion session that names this VM, if any (a re-run follows it instead of re-sending). */
  runningFor(vmId: string): JobSession | undefined;
}

export interface ListDeletionSessionsOptions extends CallOptions {
  /**
   * Epoch ms: sessions that started at or after it are listed, running ones whenever they started. Use the
   * run's start less SESSION_CLOCK_SKEW_MS, so every session the delete guard could mistake is known.
   */
  sinceMs: number;
}

/** The answer to a delete of one restore point (v8.1). */
export type PointDeleteSubmission =
  | { kind: 'session'; session: JobSession; attempts: number }
  /** 404: the point is already gone. */
  | { kind: 'gone'; attempts: number }
  /** 423: locked (immutable or in use); not retried in this run. */
  | { kind: 'locked'; attempts: number; message: string };

export interface ListRestorePointsOptions extends CallOptions {
  /** Points per request (default 100, the appliance's default page). */
  pageSize?: number;
}

/** What the client tells its caller about each retry decision (for one log line per retry). */
export interface RetryNotice {
  method: string;
  /** Route without query string, ids templated. */
  path: string;
  /** The retry about to be made (1 for the first). */
  retryCount: number;
  delayMs: number;
  /** The strategy that decided: 'throttling' (Retry-After) or 'exponential'. */
  strategy: string;
  /** e.g. 'status 503' or 'ECONNRESET'; never a body or a token. */
  reason: string;
}

/** A VM as the appliance lists it (GET /virtualMachines): the fields discovery and exclusions read. */
export interface VirtualMachineInfo {
  id: string;
  name?: string;
  resourceGroupName?: string;
  subscriptionId?: string;
  regionName?: string;
  /** The appliance's own VM: never a cleanup target. */
  isController: boolean;
  /** Deleted in Azure; its leftover manual snapshots are still targets. */
  isDeleted: boolean;
}

export interface ListVirtualMachinesOptions extends CallOptions {
  /** Filters (SubscriptionId, RegionIds, SearchPattern on v8.1; client-side on v1). Absent: every VM. */
  filter?: DiscoveryFilter;
  /**
   * Default true: only VMs with manual snapshots (BackupDestination=ManualSnapshot on v8.1; v1 cannot tell
   * and lists every VM).
   */
  manualSnapshotsOnly?: boolean;
  /** VMs per request (default 100). */
  pageSize?: number;
}

export interface VeeamClient {
  /** scheme://host:port of the appliance; the only origin that ever receives the token. */
  readonly origin: string;
  /** Logs in and settles the API version ('auto' probes once). Idempotent. */
  connect(options?: CallOptions): Promise<{ apiVersion: ApiVersion }>;
  readonly apiVersion: ApiVersion | undefined;
  deleteSnapshots(vmId: string, options?: DeleteOptions): Promise<DeleteSubmission>;
  /** v8.1 only: one session for many VMs. */
  deleteSnapshotsBatch(vmIds: readonly string[], options?: DeleteOptions): Promise<DeleteSubmission>;
  /** Dry run of the bulk delete: what it would remove. Throws VeeamApiError 404 for an unknown VM. */
  planDeletion(vmId: string, options?: CallOptions): Promise<DeletionPlan>;
  /**
   * v8.1 only: every restore point of the VM (all destinations; callers select), paged at `pageSize`.
   * Throws VeeamApiVersionError on v1.
   */
  listRestorePoints(vmId: string, options?: ListRestorePointsOptions): Promise<RestorePoint[]>;
  /** v8.1 only: DELETE one restore point, through the same delete guard as the bulk deletes. */
  deleteRestorePoint(
    vmId: string,
    restorePointId: string,
    options?: DeleteOptions,
  ): Promise<PointDeleteSubmission>;
  /**
   * v8.1: the deletion session of the VM that started since `sinceMs` and that this client has not created
   * or adopted (a resumed run's "submitting" target); undefined when there is none. v1 cannot look: it
   * throws VeeamApiVersionError.
   */
  findDeletionSession(
    vmId: string,
    options: CallOptions & { sinceMs: number; knownSessionIds?: ReadonlySet<string> },
  ): Promise<JobSession | undefined>;
  /** v8.1: the run's one listing of deletion sessions; v1 (no such listing) resolves to undefined. */
  listDeletionSessions(options: ListDeletionSessionsOptions): Promise<DeletionSessionListing | undefined>;
  /**
   * Every VM the appliance lists that matches `filter`, paged, one listing per subscription id; the
   * controller VM is included (callers exclude it). Requests count as `list`.
   */
  listVirtualMachines(options?: ListVirtualMachinesOptions): Promise<VirtualMachineInfo[]>;
  getSession(sessionId: string, options?: CallOptions): Promise<JobSession>;
  getSessionLog(sessionId: string, options?: CallOptions): Promise<LogEntry[]>;
  /**
   * Per-VM results of a finished batch session. A Warning or Error session costs exactly one log GET and
   * each VM gets the status and last entries of its own log items; any other result is every VM's as is.
   */
  splitBatchResult(
    result: SessionResult,
    vmIds: readonly string[],
    options?: CallOptions,
  ): Promise<Map<string, SessionResult>>;
  createSessionPoller(session: JobSession, options?: SessionPollerOptions): SessionPollerLike;
  restorePoller(serialized: string): SessionPollerLike;
  /**
   * Best effort DELETE /api/oauth2/token (counted as auth), bounded by 2 s; never throws, a no-op when
   * never logged in. Call it at the end of every run.
   */
  logout(options?: CallOptions): Promise<void>;
  /** Requests sent so far, by kind. */
  readonly requestCounts: RequestCounts;
  /** Releases the keep-alive agent and the poll scheduler. */
  close(): void;
}
