import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { CleanupConfig } from '../config';
import { invalidateSecretCache } from '../config';
import type { ApiVersion, Report, Trigger, VmResult } from '../report';
import type { Telemetry } from '../telemetry/telemetry';
import { createVeeamClient } from '../veeam/client';
import {
  AmbiguousDeleteError,
  MfaRequiredError,
  VeeamApiError,
  VeeamAuthError,
  VeeamNetworkError,
  VeeamTlsError,
} from '../veeam/errors';
import type { JobSession, SessionResult, VeeamClient, VeeamClientOptions } from '../veeam/types';
import { createApplianceBreaker, isBrokenCircuit } from './breaker';
import { assembleReport, ResultBook } from './results';

export interface CleanupLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface CleanupProgress {
  vmId: string;
  phase: 'submitted' | 'settled';
  result?: VmResult;
  settled: number;
  total: number;
}

export interface RunCleanupOptions {
  config: CleanupConfig;
  trigger: Trigger;
  /** Where per-request dependencies and exceptions go (default: nowhere). */
  telemetry?: Telemetry;
  /** default: a new UUID */
  runId?: string;
  /** Restricts the run to these targets; the caller has checked them against the configured list. */
  vmIds?: readonly string[];
  /** Overrides config.dryRun. */
  dryRun?: boolean;
  /** Epoch ms. Nothing is submitted once less than submitMarginMs remains; sessions still running end TimedOut. */
  deadline?: number;
  /** Time kept free before the deadline (default 10 % of the time to the deadline, between 1 s and 60 s). */
  submitMarginMs?: number;
  /** Stops submitting and polling, like a deadline that arrives now; a report is still returned. */
  abortSignal?: AbortSignal;
  /** Client tuning for tests and the benchmark; connection settings always come from `config`. */
  client?: Pick<
    VeeamClientOptions,
    'poll' | 'retry' | 'requestTimeoutMs' | 'maxInFlight' | 'deleteCheckSettleMs'
  >;
  /** Consecutive appliance-level failures that stop the run (default 3). */
  breakerThreshold?: number;
  /** VMs per batch request in v8.1 batch mode (default 100). */
  batchSize?: number;
  /** Builds the status URL of a session that is still running (the HTTP trigger sets it). */
  statusUrl?: (sessionId: string) => string;
  logger?: CleanupLogger;
  onProgress?: (progress: CleanupProgress) => void;
}

const SILENT: CleanupLogger = { info: () => {}, warn: () => {}, error: () => {} };

const SKIP_DEADLINE = 'deadline';
const SKIP_UNAVAILABLE = 'appliance unavailable';
const SKIP_ABORTED = 'aborted';

/**
 * One cleanup run, start to finish: log in once, submit deletions with bounded concurrency, follow every
 * session through the client's shared poller, and return a report in which each target appears exactly once.
 * It never throws for appliance or VM problems; those end up in the report.
 */
export async function runCleanup(options: RunCleanupOptions): Promise<Report> {
  const { config } = options;
  const log = options.logger ?? SILENT;
  const startedAtMs = Date.now();
  const dryRun = options.dryRun ?? config.dryRun;
  const targetIds = options.vmIds ? [...options.vmIds] : config.targets.ids;
  const invalid = options.vmIds ? [] : config.targets.invalid;
  const order = [...targetIds, ...invalid.map((i) => i.id)];
  const book = new ResultBook(order);
  const total = order.length;

  const settle = (result: VmResult): void => {
    if (book.settle(result)) {
      options.onProgress?.({
        vmId: result.vmId,
        phase: 'settled',
        result,
        settled: book.settledCount,
        total,
      });
    }
  };
  for (const bad of invalid)
    settle({ vmId: bad.id, outcome: 'InvalidId', attempts: 0, durationMs: 0, error: bad.reason });

  const base = {
    runId: options.runId ?? randomUUID(),
    trigger: options.trigger,
    apiVersion: null as ApiVersion | null,
    dryRun,
    startedAt: new Date(startedAtMs).toISOString(),
    duplicatesRemoved: options.vmIds ? 0 : config.targets.duplicatesRemoved,
  };
  const finish = (fillReason: string, failure?: Report['failure']): Report => {
    const results = book.close((vmId) => skipped(vmId, fillReason));
    return assembleReport({ ...base, ...(failure ? { failure } : {}) }, results, Date.now());
  };

  // Only invalid ids (all settled already): nothing to send, so no login either.
  if (targetIds.length === 0) return finish(SKIP_DEADLINE);

  const telemetry = options.telemetry;
  const client = createVeeamClient({
    ...options.client,
    baseUrl: config.applianceUrl,
    username: config.username,
    password: config.password,
    caCert: config.caCert,
    apiVersion: config.apiVersion,
    onWarning: (message) => log.warn(message),
    onRequest: telemetry
      ? (info) =>
          telemetry.trackDependency({
            name: `${info.method} ${info.path}`,
            target: client.origin + info.path,
            resultCode: info.status ?? 'network error',
            durationMs: info.durationMs,
            success: info.ok,
            properties: { kind: info.kind },
          })
      : undefined,
  });

  try {
    try {
      base.apiVersion = (await client.connect({ abortSignal: options.abortSignal })).apiVersion;
      log.info(`Connected to the appliance, API ${base.apiVersion}`);
    } catch (error) {
      if (isAbort(error, options.abortSignal)) return finish(SKIP_ABORTED);
      const failure = describeConnectFailure(error);
      if (error instanceof VeeamAuthError) invalidateSecretCache();
      log.error(`Could not use the appliance: ${failure.message}`);
      if (!(error instanceof VeeamAuthError || error instanceof MfaRequiredError)) {
        telemetry?.trackException(asError(error), { runId: base.runId });
      }
      return finish(SKIP_UNAVAILABLE, failure);
    }

    const run = new Run(client, options, book, settle, log);
    if (dryRun) await run.planAll(targetIds);
    else if (config.batch && base.apiVersion === 'v8.1') await run.deleteInBatches(targetIds);
    else await run.deleteAll(targetIds);
    return finish(run.stopReason());
  } finally {
    client.close();
  }
}

/** The state of one run against a connected client. */
class Run {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly breaker;
  private readonly deadline: number | undefined;
  private readonly submitMarginMs: number;
  private tripped = false;

  constructor(
    private readonly client: VeeamClient,
    private readonly options: RunCleanupOptions,
    private readonly book: ResultBook,
    private readonly settle: (result: VmResult) => void,
    private readonly log: CleanupLogger,
  ) {
    this.limit = pLimit(options.config.concurrency);
    this.breaker = createApplianceBreaker({ threshold: options.breakerThreshold });
    this.deadline = options.deadline;
    const window = options.deadline === undefined ? 0 : Math.max(0, options.deadline - Date.now());
    this.submitMarginMs = options.submitMarginMs ?? Math.min(60_000, Math.max(1_000, window * 0.1));
  }

  /** Why targets that were never submitted are skipped. */
  stopReason(): string {
    if (this.tripped) return SKIP_UNAVAILABLE;
    if (this.options.abortSignal?.aborted) return SKIP_ABORTED;
    return SKIP_DEADLINE;
  }

  private canSubmit(): boolean {
    if (this.tripped || this.options.abortSignal?.aborted) return false;
    return this.deadline === undefined || this.deadline - Date.now() > this.submitMarginMs;
  }

  async planAll(vmIds: readonly string[]): Promise<void> {
    await Promise.all(vmIds.map((vmId) => this.limit(() => this.planOne(vmId))));
  }

  private async planOne(vmId: string): Promise<void> {
    if (!this.canSubmit()) return;
    const startedAt = Date.now();
    try {
      const plan = await this.breaker.execute(() =>
        this.client.planDeletion(vmId, { abortSignal: this.options.abortSignal }),
      );
      this.settle({
        vmId,
        outcome: 'WouldDelete',
        attempts: 0,
        durationMs: Date.now() - startedAt,
        ...(plan.snapshots ? { snapshots: plan.snapshots } : {}),
      });
    } catch (error) {
      this.settleError(vmId, error, startedAt, 0);
    }
  }

  async deleteAll(vmIds: readonly string[]): Promise<void> {
    const polls: Promise<void>[] = [];
    await Promise.all(
      vmIds.map((vmId) =>
        this.limit(async () => {
          const submitted = await this.submitOne(vmId);
          if (submitted) polls.push(submitted.following);
        }),
      ),
    );
    await Promise.all(polls);
  }

  /**
   * Sends one delete. When a session was started, returns the promise that follows it, wrapped so that the
   * caller's concurrency slot is released as soon as the delete is accepted, not when the session ends.
   */
  private async submitOne(vmId: string): Promise<{ following: Promise<void> } | undefined> {
    if (!this.canSubmit()) return undefined;
    const startedAt = Date.now();
    this.options.onProgress?.({
      vmId,
      phase: 'submitted',
      settled: this.book.settledCount,
      total: this.book.size,
    });
    try {
      const submission = await this.breaker.execute(() =>
        this.client.deleteSnapshots(vmId, { abortSignal: this.options.abortSignal }),
      );
      if (submission.kind === 'nothingToDelete') {
        this.settle({
          vmId,
          outcome: 'Succeeded',
          attempts: submission.attempts,
          durationMs: Date.now() - startedAt,
        });
        return undefined;
      }
      return { following: this.follow([vmId], submission.session, submission.attempts, startedAt) };
    } catch (error) {
      this.settleError(vmId, error, startedAt, attemptsOf(error));
      return undefined;
    }
  }

  async deleteInBatches(vmIds: readonly string[]): Promise<void> {
    const size = this.options.batchSize ?? 100;
    const polls: Promise<void>[] = [];
    const chunks: string[][] = [];
    for (let i = 0; i < vmIds.length; i += size) chunks.push(vmIds.slice(i, i + size));
    await Promise.all(
      chunks.map((chunk) =>
        this.limit(async () => {
          if (!this.canSubmit()) return;
          const startedAt = Date.now();
          try {
            const submission = await this.breaker.execute(() =>
              this.client.deleteSnapshotsBatch(chunk, { abortSignal: this.options.abortSignal }),
            );
            if (submission.kind === 'nothingToDelete') {
              for (const vmId of chunk) {
                this.settle({
                  vmId,
                  outcome: 'Succeeded',
                  attempts: submission.attempts,
                  durationMs: Date.now() - startedAt,
                });
              }
              return;
            }
            polls.push(this.follow(chunk, submission.session, submission.attempts, startedAt));
          } catch (error) {
            if (error instanceof VeeamApiError && error.status === 404) {
              // One unknown id rejects the whole batch; per-VM deletes give each VM its own answer.
              this.log.warn(`A batch of ${chunk.length} was rejected (404); deleting those VMs one by one`);
              for (const vmId of chunk) {
                const submitted = await this.submitOne(vmId);
                if (submitted) polls.push(submitted.following);
              }
              return;
            }
            for (const vmId of chunk) this.settleError(vmId, error, startedAt, attemptsOf(error));
          }
        }),
      ),
    );
    await Promise.all(polls);
  }

  /** Polls one session (shared by every VM of a batch) and settles its VMs. */
  private async follow(
    vmIds: string[],
    session: JobSession,
    attempts: number,
    startedAt: number,
  ): Promise<void> {
    const maxWaitMs = this.options.config.maxSessionWaitMs;
    const poller = this.client.createSessionPoller(session, { maxWaitMs, deadline: this.deadline });
    let lastStatus = session.status;
    poller.onProgress((p) => {
      lastStatus = p.status;
    });
    let result: SessionResult;
    try {
      result = await poller.pollUntilDone({ abortSignal: this.options.abortSignal });
    } catch (error) {
      const sessionId = session.id;
      for (const vmId of vmIds) {
        if (isAbort(error, this.options.abortSignal)) {
          this.settle(this.timedOut(vmId, sessionId, lastStatus, attempts, startedAt));
        } else {
          this.settle({
            vmId,
            outcome: 'Failed',
            sessionId,
            sessionStatus: lastStatus,
            attempts,
            durationMs: Date.now() - startedAt,
            error: `lost track of session ${sessionId}: ${asError(error).message}`,
          });
        }
      }
      return;
    }
    if (vmIds.length > 1 && result.status !== 'Success' && result.status !== 'TimedOut') {
      await this.settleBatchMembers(vmIds, result, attempts, startedAt);
      return;
    }
    for (const vmId of vmIds) this.settle(this.fromSession(vmId, result, attempts, startedAt));
  }

  /** A batch session that did not fully succeed: each VM's own log items decide its outcome. */
  private async settleBatchMembers(
    vmIds: string[],
    batch: SessionResult,
    attempts: number,
    startedAt: number,
  ): Promise<void> {
    await Promise.all(
      vmIds.map(async (vmId) => {
        const perVm = await this.client
          .createSessionPoller(batch.session ?? { id: batch.sessionId, status: batch.lastStatus }, { vmId })
          .pollUntilDone({ abortSignal: this.options.abortSignal })
          .catch(() => batch);
        this.settle(this.fromSession(vmId, perVm, attempts, startedAt));
      }),
    );
  }

  private fromSession(vmId: string, result: SessionResult, attempts: number, startedAt: number): VmResult {
    if (result.status === 'TimedOut') {
      return {
        ...this.timedOut(vmId, result.sessionId, result.lastStatus, attempts, startedAt),
        ...logOf(result),
      };
    }
    const outcome =
      result.status === 'Success' ? 'Succeeded' : result.status === 'Warning' ? 'Warning' : 'Failed';
    const lastMessage = result.log?.[result.log.length - 1]?.message;
    return {
      vmId,
      outcome,
      sessionId: result.sessionId,
      sessionStatus: result.lastStatus,
      attempts,
      durationMs: Date.now() - startedAt,
      ...(outcome === 'Failed'
        ? { error: `session ended ${result.status}${lastMessage ? `: ${lastMessage}` : ''}` }
        : {}),
      ...logOf(result),
    };
  }

  private timedOut(
    vmId: string,
    sessionId: string,
    status: string,
    attempts: number,
    startedAt: number,
  ): VmResult {
    return {
      vmId,
      outcome: 'TimedOut',
      sessionId,
      sessionStatus: status,
      attempts,
      durationMs: Date.now() - startedAt,
      error: `session ${sessionId} was still ${status} when the wait ended; check it on the appliance`,
      ...(this.options.statusUrl ? { statusUrl: this.options.statusUrl(sessionId) } : {}),
    };
  }

  private settleError(vmId: string, error: unknown, startedAt: number, attempts: number): void {
    if (isBrokenCircuit(error)) {
      this.trip();
      return; // left open: closed as skipped, appliance unavailable
    }
    if (isAbort(error, this.options.abortSignal)) {
      if (attempts === 0) return; // never sent: closed as skipped, aborted
      this.settle({
        vmId,
        outcome: 'Failed',
        attempts,
        durationMs: Date.now() - startedAt,
        error: 'aborted while the delete was in flight; unknown whether it was accepted',
      });
      return;
    }
    if (error instanceof VeeamAuthError) invalidateSecretCache();
    const message = error instanceof AmbiguousDeleteError ? error.message : asError(error).message;
    this.options.telemetry?.trackException(asError(error), { vmId });
    this.settle({ vmId, outcome: 'Failed', attempts, durationMs: Date.now() - startedAt, error: message });
  }

  private trip(): void {
    if (this.tripped) return;
    this.tripped = true;
    this.log.error('The appliance looks unavailable; the remaining VMs are skipped');
  }
}

function skipped(vmId: string, reason: string): VmResult {
  return { vmId, outcome: 'Skipped', attempts: 0, durationMs: 0, error: reason };
}

function logOf(result: SessionResult): Pick<VmResult, 'log'> {
  return result.log && result.log.length > 0 ? { log: result.log } : {};
}

function attemptsOf(error: unknown): number {
  const attempts = (error as { attempts?: unknown } | undefined)?.attempts;
  return typeof attempts === 'number' ? attempts : 1;
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error instanceof Error && error.name === 'AbortError');
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function describeConnectFailure(error: unknown): NonNullable<Report['failure']> {
  if (error instanceof MfaRequiredError) return { kind: 'mfa', message: error.message };
  if (error instanceof VeeamAuthError) return { kind: 'auth', message: error.message };
  if (error instanceof VeeamTlsError) return { kind: 'tls', message: error.message };
  if (error instanceof VeeamNetworkError || error instanceof VeeamApiError) {
    return { kind: 'unreachable', message: error.message };
  }
  return { kind: 'unreachable', message: asError(error).message };
}
