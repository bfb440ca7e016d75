import type { ContainerClient } from '@azure/storage-blob';
import type { Clock } from '../clock';
import { displayId } from '../displayId';
import { ConfigError } from '../errors';
import { parseDuration } from '../config/durations';
import { describeStorageError } from './storage';

export const LEASE_DURATION_SETTING = 'CLEANUP_LEASE_DURATION';
/** The lock blob inside the snapshot-cleanup container. */
export const LEASE_BLOB = 'locks/run';
export const DEFAULT_LEASE_SECONDS = 60;
/** Blob leases are 15-60 s or infinite; an infinite one would keep a crashed holder's lock forever. */
const MIN_LEASE_SECONDS = 15;
const MAX_LEASE_SECONDS = 60;
const HOLDER_METADATA = 'runid';
const RUN_ID = /^[A-Za-z0-9-]{1,64}$/;
const CALL_TIMEOUT_MS = 10_000;
/** A holder writes its runId right after acquiring: a contender that looks in between retries briefly. */
const HOLDER_READS = 3;
const HOLDER_READ_GAP_MS = 250;

/**
 * Reads CLEANUP_LEASE_DURATION (seconds or ISO-8601, 15-60 s, whole seconds). Unset or blank: 60.
 */
export function parseLeaseDuration(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_LEASE_SECONDS;
  const ms = parseDuration(raw, LEASE_DURATION_SETTING);
  if (ms % 1000 !== 0 || ms < MIN_LEASE_SECONDS * 1000 || ms > MAX_LEASE_SECONDS * 1000) {
    throw new ConfigError(
      LEASE_DURATION_SETTING,
      `must be a whole number of seconds from ${MIN_LEASE_SECONDS} to ${MAX_LEASE_SECONDS}`,
    );
  }
  return ms / 1000;
}

/** Another run holds the lease. `holderRunId` is undefined when the holder wrote none (yet). */
export class LeaseHeldError extends Error {
  override readonly name = 'LeaseHeldError';
  constructor(readonly holderRunId: string | undefined) {
    super(
      `another cleanup run (${holderRunId === undefined ? 'unknown' : displayId(holderRunId)}) holds the lease`,
    );
  }
}

/** The abort reason of a lease's signal: the lease is gone, so the run must stop submitting. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(
    /** 'conflict': a renewal was refused (409/412); 'unrenewable': renewals failed until expiry was near. */
    readonly reason: 'conflict' | 'unrenewable',
  ) {
    super(
      reason === 'conflict'
        ? 'the run lease was lost (taken or broken by someone else)'
        : 'the run lease could not be renewed before it expired',
    );
  }
}

export interface RunLease {
  /** Aborted (with a LeaseLostError) when the lease is lost. Never aborted by release(). */
  readonly signal: AbortSignal;
  /** Stops renewing and releases the lease. Idempotent; never throws. */
  release(): Promise<void>;
}

export interface AcquireRunLeaseOptions {
  /** The snapshot-cleanup container (RunStorage.container). */
  container: ContainerClient;
  /** The setting storage errors name (RunStorage.settings.blob). */
  setting: string;
  runId: string;
  clock: Clock;
  /** 15-60; see parseLeaseDuration. Default 60. */
  durationSeconds?: number;
}

interface RestErrorLike {
  statusCode?: unknown;
  code?: unknown;
}

const statusOf = (error: unknown): unknown => (error as RestErrorLike | undefined)?.statusCode;

/**
 * Takes the one-run-at-a-time lease on `snapshot-cleanup/locks/run` (creating the blob if missing), writes
 * `runId` in its metadata and renews it every third of its duration on `clock`. Throws LeaseHeldError
 * (with the holder's runId) when another run holds it, or StorageUnavailableError naming `setting`.
 */
export async function acquireRunLease(options: AcquireRunLeaseOptions): Promise<RunLease> {
  const { container, setting, runId, clock } = options;
  const durationSeconds = options.durationSeconds ?? DEFAULT_LEASE_SECONDS;
  if (!RUN_ID.test(runId)) throw new TypeError('runId must be 1-64 letters, digits or dashes');
  if (
    !Number.isInteger(durationSeconds) ||
    durationSeconds < MIN_LEASE_SECONDS ||
    durationSeconds > MAX_LEASE_SECONDS
  ) {
    throw new TypeError(
      `durationSeconds must be an integer from ${MIN_LEASE_SECONDS} to ${MAX_LEASE_SECONDS}`,
    );
  }
  const blob = container.getBlockBlobClient(LEASE_BLOB);
  const leaseClient = blob.getBlobLeaseClient();
  const timeout = () => AbortSignal.timeout(CALL_TIMEOUT_MS);
  const fail = (error: unknown) => describeStorageError(error, setting);

  const tryAcquire = async (): Promise<'acquired' | 'missing' | 'held'> => {
    try {
      await leaseClient.acquireLease(durationSeconds, { abortSignal: timeout() });
      return 'acquired';
    } catch (error) {
      if (statusOf(error) === 404) return 'missing';
      if (statusOf(error) === 409) return 'held';
      throw fail(error);
    }
  };

  let outcome = await tryAcquire();
  if (outcome === 'missing') {
    try {
      // If-None-Match: * makes concurrent creators harmless: the losers get 409 and go on to acquire.
      await blob.upload('', 0, { conditions: { ifNoneMatch: '*' }, abortSignal: timeout() });
    } catch (error) {
      if (statusOf(error) !== 409 && statusOf(error) !== 412) throw fail(error);
    }
    outcome = await tryAcquire();
  }
  if (outcome === 'held') throw new LeaseHeldError(await readHolder());
  if (outcome === 'missing') throw fail(new Error('lease blob vanished'));

  const leaseId = leaseClient.leaseId;
  try {
    await blob.setMetadata({ [HOLDER_METADATA]: runId }, { conditions: { leaseId }, abortSignal: timeout() });
  } catch (error) {
    await leaseClient.releaseLease({ abortSignal: timeout() }).catch(() => undefined);
    throw fail(error);
  }

  async function readHolder(): Promise<string | undefined> {
    for (let read = 1; ; read++) {
      let holder: string | undefined;
      try {
        const properties = await blob.getProperties({ abortSignal: timeout() });
        holder = properties.metadata?.[HOLDER_METADATA];
        if (properties.leaseState !== 'leased') holder = undefined;
      } catch (error) {
        throw fail(error);
      }
      if (holder !== undefined || read >= HOLDER_READS) return holder;
      await clock.sleep(HOLDER_READ_GAP_MS);
    }
  }

  const controller = new AbortController();
  const durationMs = durationSeconds * 1000;
  const intervalMs = Math.floor(durationMs / 3);
  let lastRenewedAt = clock.now();
  let timer: unknown;
  let stopped = false;

  const lose = (reason: LeaseLostError['reason']) => {
    stopped = true;
    controller.abort(new LeaseLostError(reason));
  };

  const renew = async () => {
    timer = undefined;
    try {
      await leaseClient.renewLease({ abortSignal: timeout() });
      lastRenewedAt = clock.now();
    } catch (error) {
      if (stopped) return;
      const status = statusOf(error);
      if (status === 409 || status === 412) return lose('conflict');
      // Transient: try again at the next tick unless that would come after the lease expired (with a third
      // of the duration between renewals, that is after two failures in a row).
      if (clock.now() - lastRenewedAt + intervalMs >= durationMs) return lose('unrenewable');
    }
    if (!stopped) timer = clock.setTimer(() => void renew(), intervalMs);
  };
  timer = clock.setTimer(() => void renew(), intervalMs);

  let released: Promise<void> | undefined;
  return {
    signal: controller.signal,
    release() {
      released ??= (async () => {
        const wasLost = stopped;
        stopped = true;
        if (timer !== undefined) clock.clearTimer(timer);
        if (wasLost) return;
        try {
          // Clear the holder first, so a contender never reads this run as the holder of someone else's lease.
          await blob.setMetadata({}, { conditions: { leaseId }, abortSignal: timeout() });
        } catch {
          // The lease may already be gone; releasing below (or expiry) frees the lock either way.
        }
        try {
          await leaseClient.releaseLease({ abortSignal: timeout() });
        } catch {
          // Expiry frees it within the lease duration.
        }
      })();
      return released;
    },
  };
}
