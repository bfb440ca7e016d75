import type { TableClient, TableEntity, TableEntityResult, TransactionAction } from '@azure/data-tables';
import type { Clock } from '../clock';
import { parseDuration } from '../config/durations';
import type { Report, Trigger, VmResult } from '../report';
import { reportSchema, vmResultSchema } from './ledgerRecords';
import { runRequestSchema, type RunRequest } from './request';
import { describeStorageError } from './storage';

export const RESUME_WINDOW_SETTING = 'CLEANUP_RESUME_WINDOW';
export const DEFAULT_RESUME_WINDOW_MS = 6 * 3_600_000;
/** Single-appliance configurations file their targets under this appliance name. */
export const DEFAULT_APPLIANCE = 'default';
export const MAX_LIST_RUNS = 50;

/** Table transactions: at most 100 operations and 4 MiB; the margin covers the multipart framing. */
const MAX_BATCH_OPERATIONS = 100;
const MAX_BATCH_BYTES = 3_500_000;
/** A string property holds 64 KiB of UTF-16: 32 768 code units. */
const MAX_PROPERTY_CHARS = 32_000;
/** A VM result may span this many properties (an entity holds at most 1 MiB). */
const MAX_RESULT_PARTS = 12;
const TRIMMED_LOG_MESSAGE_CHARS = 500;
/**
 * Target rows per partition: the first block shares the run's partition, later blocks get partitions
 * `<runId>.<n>` of their own. One partition serves about 2,000 entities a second on Azure, and a 10,000-VM
 * run writes ~40,000; Azurite also looks every written row up by scanning its partition (a 100-operation
 * transaction took 39 ms at 625 rows and 219 ms at 10,000).
 */
const TARGETS_PER_PARTITION = 500;
const RUN_ROW = 'run';
/** Runs' index and open markers; '~' sorts after every runId and cannot start an encoded appliance name. */
const RUNS_PARTITION = '~runs';
const RUN_ID = /^[A-Za-z0-9-]{1,64}$/;
const INVERTED_TIME_BASE = 9_999_999_999_999;

/** A row as the table returns it. */
type Row = TableEntityResult<Record<string, unknown>>;

export type RunStatus = 'running' | 'completed' | 'interrupted';
export type TargetState = 'planned' | 'submitting' | 'submitted' | 'settled';
/** Why a run stopped early: a code, never free text (free text could carry a secret). */
export type InterruptReason = 'lease-lost' | 'deadline' | 'shutdown' | 'poison' | 'error' | 'stale';

/** A target within a run. `appliance` defaults to 'default'. */
export interface TargetKey {
  appliance?: string;
  vmId: string;
}

export interface TargetRecord {
  appliance: string;
  vmId: string;
  state: TargetState;
  /** Every session id the appliance gave for this target so far. */
  sessionIds: string[];
  /** When settled, as openRun reads it back (a running ledger writes it and keeps only the state). */
  result?: VmResult;
  updatedAt: string;
}

export interface RunRecord {
  runId: string;
  status: RunStatus;
  trigger: Trigger;
  startedAt: string;
  finishedAt?: string;
  interruptedAt?: string;
  interruptReason?: InterruptReason;
  /** Set when a stale run was closed for good (not resumable any more). */
  closedAt?: string;
  /** How often the run was resumed. */
  resumes: number;
  progress: { settled: number; total: number };
}

export interface NewRun {
  runId: string;
  trigger: Trigger;
  /** Background runs: what the admin asked for. Only RunRequest's fields are stored. */
  request?: RunRequest;
}

export interface TargetsByState {
  planned: TargetRecord[];
  submitting: TargetRecord[];
  submitted: TargetRecord[];
  settled: TargetRecord[];
}

export interface ClosedRun {
  runId: string;
  startedAt: string;
  unsettled: TargetKey[];
}

/** Another writer changed a row of this run (ETag mismatch): this process no longer owns the run. */
export class LedgerConflictError extends Error {
  override readonly name = 'LedgerConflictError';
  constructor(readonly runId: string) {
    super(`the ledger of run ${runId} was changed by another writer`);
  }
}

/** A transition the target or run state machine does not allow (a bug in the caller, or a resumed state). */
export class LedgerStateError extends Error {
  override readonly name = 'LedgerStateError';
}

export class RunNotFoundError extends Error {
  override readonly name = 'RunNotFoundError';
  constructor(readonly runId: string) {
    super(`no run ${runId} in the ledger`);
  }
}

/** Reads CLEANUP_RESUME_WINDOW (ISO-8601 or seconds); unset or blank: PT6H. */
export function parseResumeWindow(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_RESUME_WINDOW_MS;
  return parseDuration(raw, RESUME_WINDOW_SETTING);
}

/** The row of a target: `<appliance>|<vmId>`, with the characters Table keys forbid percent-encoded. */
export function targetRowKey(key: TargetKey): string {
  const appliance = key.appliance ?? DEFAULT_APPLIANCE;
  if (appliance === '') throw new LedgerStateError('an appliance name must not be empty');
  // Appliance names are encoded strictly so they never contain '|' nor start with '~'.
  const encodedAppliance = appliance.replace(/[^A-Za-z0-9._-]/g, (c) => percent(c));
  // eslint-disable-next-line no-control-regex
  const encodedVm = key.vmId.replace(/[%/\\#?\u0000-\u001f\u007f-\u009f]/g, (c) => percent(c));
  return `${encodedAppliance}|${encodedVm}`;
}

function percent(char: string): string {
  return [...Buffer.from(char, 'utf8')]
    .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('');
}

function assertRunId(runId: string): void {
  if (!RUN_ID.test(runId)) throw new LedgerStateError('runId must be 1-64 letters, digits or dashes');
}

/** Splits text into property-sized parts without cutting a surrogate pair in two. */
function splitText(text: string, size = MAX_PROPERTY_CHARS): string[] {
  const parts: string[] = [];
  for (let start = 0; start < text.length;) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts.length > 0 ? parts : [''];
}

/**
 * A VM result that fits a row: if its JSON is too long, log messages are cut first, then the oldest log
 * entries go, then the dry-run snapshot list is cut; the outcome, counts and ids always stay.
 */
function fitResult(result: VmResult): string {
  const limit = MAX_PROPERTY_CHARS * MAX_RESULT_PARTS;
  let json = JSON.stringify(result);
  if (json.length <= limit) return json;
  const trimmed: VmResult = {
    ...result,
    error: result.error?.slice(0, TRIMMED_LOG_MESSAGE_CHARS),
    log: result.log?.map((e) => ({ ...e, message: e.message.slice(0, TRIMMED_LOG_MESSAGE_CHARS) })),
  };
  for (;;) {
    json = JSON.stringify(trimmed);
    if (json.length <= limit) return json;
    if (trimmed.log && trimmed.log.length > 0) trimmed.log = trimmed.log.slice(1);
    else if (trimmed.snapshots && trimmed.snapshots.length > 0) {
      trimmed.snapshots = trimmed.snapshots.slice(0, Math.floor(trimmed.snapshots.length / 2));
    } else return JSON.stringify({ ...trimmed, log: undefined, snapshots: undefined });
  }
}

interface Pending {
  kind: 'create' | 'update';
  entity: TableEntity;
  bytes: number;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

/** What the partition writers of one run share: the first conflict in any partition stops them all. */
interface RunWriters {
  conflict?: LedgerConflictError;
}

/**
 * Group commit for one partition: writes that arrive while a transaction is in flight join the next one
 * (≤ 100 operations, < 4 MiB); two writes of the same row that are both still waiting become one. Every
 * update carries the row's last ETag. The first conflict (412/409) poisons the run's writers: that write and
 * every later one fail with LedgerConflictError, so a second writer never gets overwritten.
 */
class PartitionWriter {
  private readonly pending = new Map<string, Pending>();
  private readonly etags = new Map<string, string>();
  private draining = false;
  /** Transactions sent (for cost accounting). */
  transactions = 0;

  constructor(
    private readonly table: TableClient,
    private readonly runId: string,
    private readonly setting: string,
    private readonly shared: RunWriters,
  ) {}

  private get conflict(): LedgerConflictError | undefined {
    return this.shared.conflict;
  }

  knowEtag(rowKey: string, etag: string): void {
    this.etags.set(rowKey, etag);
  }

  write(kind: Pending['kind'], entity: TableEntity): Promise<void> {
    if (this.conflict) return Promise.reject(this.conflict);
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      const bytes = Buffer.byteLength(JSON.stringify(entity));
      const waiting = this.pending.get(entity.rowKey);
      if (waiting) {
        // Not sent yet: the newer content replaces it (a create stays a create).
        waiting.entity = entity;
        waiting.bytes = bytes;
        waiting.waiters.push(waiter);
      } else {
        this.pending.set(entity.rowKey, { kind, entity, bytes, waiters: [waiter] });
      }
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    // Lets writes issued in the same tick join the first transaction.
    await Promise.resolve();
    while (this.pending.size > 0) {
      const batch: Pending[] = [];
      let bytes = 0;
      for (const [rowKey, op] of this.pending) {
        if (batch.length >= MAX_BATCH_OPERATIONS) break;
        if (batch.length > 0 && bytes + op.bytes > MAX_BATCH_BYTES) break;
        batch.push(op);
        bytes += op.bytes;
        this.pending.delete(rowKey);
      }
      await this.send(batch);
    }
    this.draining = false;
  }

  private async send(batch: Pending[]): Promise<void> {
    if (this.conflict) {
      for (const w of batch.flatMap((op) => op.waiters)) w.reject(this.conflict);
      return;
    }
    // An update needs the ETag of the row's last write; without one (that write failed) it is refused
    // rather than sent unconditionally.
    const unknown = batch.filter((op) => op.kind === 'update' && !this.etags.has(op.entity.rowKey));
    for (const op of unknown) {
      const error = new LedgerStateError(`row ${op.entity.rowKey} has no known ETag (its last write failed)`);
      for (const w of op.waiters) w.reject(error);
    }
    batch = batch.filter((op) => !unknown.includes(op));
    if (batch.length === 0) return;
    const actions: TransactionAction[] = batch.map((op) =>
      op.kind === 'create'
        ? ['create', op.entity]
        : ['update', op.entity, 'Replace', { etag: this.etags.get(op.entity.rowKey) }],
    );
    const waiters = batch.flatMap((op) => op.waiters);
    try {
      this.transactions += 1;
      const response = await this.table.submitTransaction(actions);
      response.subResponses.forEach((sub, i) => {
        if (sub.etag) this.etags.set(batch[i].entity.rowKey, sub.etag);
      });
      for (const w of waiters) w.resolve();
    } catch (error) {
      const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
      if (status === 412 || status === 409) {
        const conflict = (this.shared.conflict ??= new LedgerConflictError(this.runId));
        for (const w of waiters) w.reject(conflict);
      } else {
        const failure = describeStorageError(error, this.setting);
        for (const w of waiters) w.reject(failure);
      }
    }
  }
}

const ALLOWED_FROM: Record<Exclude<TargetState, 'planned'>, readonly TargetState[]> = {
  // A target deleted per restore point goes back to submitting for each further request.
  submitting: ['planned', 'submitted'],
  submitted: ['submitting'],
  settled: ['planned', 'submitting', 'submitted'],
};

/** One run's rows. Created by Ledger.createRun or Ledger.openRun; holds the run's latest known state. */
export class RunLedger {
  private readonly targets = new Map<string, TargetRecord>();
  /** The partition of each target row (see TARGETS_PER_PARTITION). */
  private readonly partitionOf = new Map<string, string>();
  private readonly writers = new Map<string, PartitionWriter>();
  private readonly shared: RunWriters = {};

  /** @internal */
  constructor(
    private readonly ledger: Ledger,
    private record: RunRecord,
  ) {}

  get runId(): string {
    return this.record.runId;
  }

  /** The run row as last written (or read). */
  get run(): Readonly<RunRecord> {
    return this.record;
  }

  /** Table transactions this ledger sent for its partitions so far. */
  get transactions(): number {
    let sum = 0;
    for (const writer of this.writers.values()) sum += writer.transactions;
    return sum;
  }

  target(key: TargetKey): Readonly<TargetRecord> | undefined {
    return this.targets.get(targetRowKey(key));
  }

  targetsByState(): TargetsByState {
    const groups: TargetsByState = { planned: [], submitting: [], submitted: [], settled: [] };
    for (const target of this.targets.values()) groups[target.state].push(target);
    return groups;
  }

  /** Records the run's targets as planned (new keys only). */
  async planned(keys: readonly TargetKey[]): Promise<void> {
    this.assertRunning();
    const now = this.now();
    const writes: Promise<void>[] = [];
    for (const key of keys) {
      const rowKey = targetRowKey(key);
      if (this.targets.has(rowKey)) throw new LedgerStateError(`target ${rowKey} is already in the ledger`);
      const target: TargetRecord = {
        appliance: key.appliance ?? DEFAULT_APPLIANCE,
        vmId: key.vmId,
        state: 'planned',
        sessionIds: [],
        updatedAt: now,
      };
      this.partitionOf.set(rowKey, targetPartition(this.runId, this.targets.size));
      this.targets.set(rowKey, target);
      writes.push(this.write('create', this.targetEntity(rowKey, target)));
    }
    this.record = { ...this.record, progress: { ...this.record.progress, total: this.targets.size } };
    writes.push(this.writeRun());
    await Promise.all(writes);
  }

  /** Written, and awaited, before the delete request goes out. */
  submitting(key: TargetKey): Promise<void> {
    return this.transition(key, 'submitting', {});
  }

  /** All the session ids the appliance returned for this target so far. */
  submitted(key: TargetKey, sessionIds: readonly string[]): Promise<void> {
    return this.transition(key, 'submitted', { sessionIds: sessionIds.map(String) });
  }

  settled(key: TargetKey, result: VmResult): Promise<void> {
    return this.transition(key, 'settled', { result: vmResultSchema.parse(result) });
  }

  /** Marks a resumed run as running again. */
  async resume(): Promise<void> {
    if (this.record.status === 'completed' || this.record.closedAt) {
      throw new LedgerStateError(`run ${this.runId} is ${this.record.status} and cannot be resumed`);
    }
    this.record = { ...this.record, status: 'running', resumes: this.record.resumes + 1 };
    await this.writeRun();
  }

  /** Stores the final report (in parts when large) and marks the run completed. */
  async complete(report: Report): Promise<void> {
    this.assertRunning();
    const json = JSON.stringify(reportSchema.parse(report));
    await this.writeText('report', json);
    this.record = { ...this.record, status: 'completed', finishedAt: this.now() };
    await this.writeRun();
    await this.ledger.markClosed(this.runId);
  }

  /** Marks the run interrupted; the next start may resume it within the resume window. */
  async interrupt(reason: InterruptReason): Promise<void> {
    if (this.record.status === 'completed') throw new LedgerStateError(`run ${this.runId} is completed`);
    this.record = {
      ...this.record,
      status: 'interrupted',
      interruptedAt: this.now(),
      interruptReason: reason,
    };
    await this.writeRun();
  }

  /** @internal used by Ledger.closeStale. */
  async close(): Promise<TargetKey[]> {
    const unsettled = [...this.targets.values()]
      .filter((t) => t.state !== 'settled')
      .map((t) => ({ appliance: t.appliance, vmId: t.vmId }));
    await this.writeText('unsettled', JSON.stringify(unsettled));
    const now = this.now();
    this.record = {
      ...this.record,
      status: this.record.status === 'completed' ? 'completed' : 'interrupted',
      interruptedAt: this.record.interruptedAt ?? now,
      interruptReason: this.record.interruptReason ?? 'stale',
      closedAt: now,
    };
    await this.writeRun();
    return unsettled;
  }

  /** @internal used by Ledger.openRun. */
  load(entity: Row): void {
    const rowKey = entity.rowKey ?? '';
    const partition = entity.partitionKey ?? this.runId;
    if (entity.etag) this.writerOf(partition).knowEtag(rowKey, String(entity.etag));
    if (rowKey === RUN_ROW || rowKey.startsWith('~')) return;
    this.partitionOf.set(rowKey, partition);
    const parts = Number(entity.resultParts ?? 0);
    const resultJson = Array.from({ length: parts }, (_, i) => String(entity[`result${i}`] ?? '')).join('');
    this.targets.set(rowKey, {
      appliance: String(entity.appliance),
      vmId: String(entity.vmId),
      state: String(entity.state) as TargetState,
      sessionIds: JSON.parse(String(entity.sessionIds ?? '[]')) as string[],
      ...(parts > 0 ? { result: vmResultSchema.parse(JSON.parse(resultJson)) } : {}),
      updatedAt: String(entity.updatedAt),
    });
  }

  private async transition(
    key: TargetKey,
    to: Exclude<TargetState, 'planned'>,
    change: Partial<TargetRecord>,
  ): Promise<void> {
    this.assertRunning();
    const rowKey = targetRowKey(key);
    const current = this.targets.get(rowKey);
    if (!current) throw new LedgerStateError(`target ${rowKey} was never planned`);
    if (!ALLOWED_FROM[to].includes(current.state)) {
      throw new LedgerStateError(`target ${rowKey} cannot go from ${current.state} to ${to}`);
    }
    const target: TargetRecord = { ...current, ...change, state: to, updatedAt: this.now() };
    const writes = [this.write('update', this.targetEntity(rowKey, target))];
    // The row has the result now, and the run's report its own copy: a running ledger keeps only the state
    // (10,000 results twice over was megabytes of live heap). openRun reads results back from the rows.
    const { result: _written, ...kept } = target;
    this.targets.set(rowKey, kept);
    if (to === 'settled') {
      const settled = this.record.progress.settled + 1;
      this.record = { ...this.record, progress: { ...this.record.progress, settled } };
      // Coalesces with the other settlements of the same transaction: one run-row update per transaction.
      writes.push(this.writeRun());
    }
    await Promise.all(writes);
  }

  private assertRunning(): void {
    if (this.record.status !== 'running') {
      throw new LedgerStateError(`run ${this.runId} is ${this.record.status}, not running`);
    }
  }

  private now(): string {
    return new Date(this.ledger.clock.now()).toISOString();
  }

  private targetEntity(rowKey: string, target: TargetRecord): TableEntity {
    const parts = target.result ? splitText(fitResult(target.result)) : [];
    return {
      partitionKey: this.partitionOf.get(rowKey) ?? this.runId,
      rowKey,
      appliance: target.appliance,
      vmId: target.vmId,
      state: target.state,
      sessionIds: JSON.stringify(target.sessionIds),
      updatedAt: target.updatedAt,
      resultParts: parts.length,
      ...Object.fromEntries(parts.map((part, i) => [`result${i}`, part])),
    };
  }

  /** @internal */
  writeRun(kind: Pending['kind'] = 'update'): Promise<void> {
    return this.write(kind, runEntity(this.record));
  }

  private write(kind: Pending['kind'], entity: TableEntity): Promise<void> {
    return this.writerOf(entity.partitionKey).write(kind, entity);
  }

  private writerOf(partition: string): PartitionWriter {
    let writer = this.writers.get(partition);
    if (!writer) {
      writer = new PartitionWriter(this.ledger.table, this.runId, this.ledger.setting, this.shared);
      this.writers.set(partition, writer);
    }
    return writer;
  }

  /** Stores text in numbered rows `~<name>|0000`, … (each one property), so a row's 1 MiB never limits it. */
  async writeText(name: 'report' | 'request' | 'unsettled', text: string): Promise<void> {
    const parts = splitText(text);
    await Promise.all(
      parts.map((data, i) =>
        this.write('create', {
          partitionKey: this.runId,
          rowKey: `~${name}|${String(i).padStart(4, '0')}`,
          data,
        }),
      ),
    );
  }
}

/** The partition of the run's `index`-th target: blocks of TARGETS_PER_PARTITION, the first in the run's own. */
function targetPartition(runId: string, index: number): string {
  const block = Math.floor(index / TARGETS_PER_PARTITION);
  return block === 0 ? runId : `${runId}.${block}`;
}

function runEntity(run: RunRecord): TableEntity {
  const optional = (name: keyof RunRecord) => (run[name] === undefined ? {} : { [name]: run[name] });
  return {
    partitionKey: run.runId,
    rowKey: RUN_ROW,
    status: run.status,
    trigger: run.trigger,
    startedAt: run.startedAt,
    ...optional('finishedAt'),
    ...optional('interruptedAt'),
    ...optional('interruptReason'),
    ...optional('closedAt'),
    resumes: run.resumes,
    settled: run.progress.settled,
    total: run.progress.total,
  };
}

function runRecord(entity: Row): RunRecord {
  const text = (name: string) => (entity[name] === undefined ? {} : { [name]: String(entity[name]) });
  return {
    runId: entity.partitionKey ?? '',
    status: String(entity.status) as RunStatus,
    trigger: String(entity.trigger) as Trigger,
    startedAt: String(entity.startedAt),
    ...text('finishedAt'),
    ...text('interruptedAt'),
    ...(entity.interruptReason === undefined
      ? {}
      : { interruptReason: String(entity.interruptReason) as InterruptReason }),
    ...text('closedAt'),
    resumes: Number(entity.resumes ?? 0),
    progress: { settled: Number(entity.settled ?? 0), total: Number(entity.total ?? 0) },
  };
}

const indexKey = (startedAtMs: number, runId: string) =>
  `i|${String(INVERTED_TIME_BASE - startedAtMs).padStart(13, '0')}|${runId}`;
const openKey = (runId: string) => `o|${runId}`;
/** OData filter for the rows of `partition` whose RowKey starts with `prefix` ('|' + 1 is '}'). */
const prefixFilter = (partition: string, prefix: string) =>
  `PartitionKey eq '${partition}' and RowKey ge '${prefix}|' and RowKey lt '${prefix}}'`;

export interface LedgerOptions {
  /** RunStorage.table. */
  table: TableClient;
  /** The setting storage errors name (RunStorage.settings.table). */
  setting: string;
  clock: Clock;
}

export interface RunView extends RunRecord {
  /** Once completed. */
  report?: Report;
}

/**
 * The run ledger in Table `SnapshotCleanupRuns`: PartitionKey = runId, RowKey `run` for the run and
 * `<appliance>|<vmId>` per target (targets past the first 500 in partitions `<runId>.1`, `<runId>.2`, …).
 * A second partition `~runs` holds an index by inverted start time (for "latest N") and one marker per run
 * not yet closed (for resume), so neither scans the table.
 */
export class Ledger {
  readonly table: TableClient;
  readonly setting: string;
  readonly clock: Clock;

  constructor(options: LedgerOptions) {
    this.table = options.table;
    this.setting = options.setting;
    this.clock = options.clock;
  }

  /** Writes a new run row (status running), its request, its index row and its open marker. */
  async createRun(run: NewRun): Promise<RunLedger> {
    assertRunId(run.runId);
    const startedAtMs = this.clock.now();
    const startedAt = new Date(startedAtMs).toISOString();
    const record: RunRecord = {
      runId: run.runId,
      status: 'running',
      trigger: run.trigger,
      startedAt,
      resumes: 0,
      progress: { settled: 0, total: 0 },
    };
    const ledger = new RunLedger(this, record);
    const writes = [ledger.writeRun('create')];
    if (run.request)
      writes.push(ledger.writeText('request', JSON.stringify(runRequestSchema.parse(run.request))));
    const marker = { runId: run.runId, startedAt };
    await Promise.all([
      ...writes,
      this.guard(
        this.table.submitTransaction([
          ['create', { partitionKey: RUNS_PARTITION, rowKey: indexKey(startedAtMs, run.runId), ...marker }],
          ['create', { partitionKey: RUNS_PARTITION, rowKey: openKey(run.runId), ...marker }],
        ]),
      ),
    ]);
    return ledger;
  }

  /** Reads every row of a run (to resume it). Throws RunNotFoundError when there is none. */
  async openRun(runId: string): Promise<{ ledger: RunLedger; request?: RunRequest }> {
    assertRunId(runId);
    const rows: Row[] = [];
    await this.guard(
      (async () => {
        // The run's own partition, then its further target partitions `<runId>.<n>`: '.' + 1 is '/', and
        // no runId contains '.', so the range holds this run's partitions only.
        const filters = [
          `PartitionKey eq '${runId}'`,
          `PartitionKey ge '${runId}.' and PartitionKey lt '${runId}/'`,
        ];
        for (const filter of filters) {
          for await (const row of this.table.listEntities<Record<string, unknown>>({
            queryOptions: { filter },
          })) {
            rows.push(row);
          }
        }
      })(),
    );
    const runRow = rows.find((r) => r.rowKey === RUN_ROW);
    if (!runRow) throw new RunNotFoundError(runId);
    const ledger = new RunLedger(this, runRecord(runRow));
    for (const row of rows) ledger.load(row);
    const requestText = joinText(rows, 'request');
    const request = requestText === undefined ? undefined : runRequestSchema.parse(JSON.parse(requestText));
    return { ledger, ...(request ? { request } : {}) };
  }

  /**
   * The newest run that is running or interrupted, not closed, and started less than `windowMs` before
   * `now`, with its targets grouped by state. Call it while holding the run lease: a `running` run found
   * then has no live owner.
   */
  async findResumable(options: {
    windowMs: number;
    now: number;
  }): Promise<{ ledger: RunLedger; request?: RunRequest; targets: TargetsByState } | undefined> {
    const open = await this.openMarkers();
    const young = open
      .filter((m) => options.now - Date.parse(m.startedAt) < options.windowMs)
      .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));
    for (const marker of young) {
      const run = await this.getRunRow(marker.runId);
      if (!run || run.status === 'completed' || run.closedAt) continue;
      const opened = await this.openRun(marker.runId);
      return { ...opened, targets: opened.ledger.targetsByState() };
    }
    return undefined;
  }

  /**
   * Closes every run not yet closed that started `windowMs` or more before `now`: it is marked interrupted
   * (if it was not completed) with its unsettled targets recorded, and is never resumed.
   */
  async closeStale(options: { windowMs: number; now: number }): Promise<ClosedRun[]> {
    const closed: ClosedRun[] = [];
    for (const marker of await this.openMarkers()) {
      if (options.now - Date.parse(marker.startedAt) < options.windowMs) continue;
      const { ledger } = await this.openRun(marker.runId).catch((error: unknown) => {
        if (error instanceof RunNotFoundError) return { ledger: undefined };
        throw error;
      });
      if (ledger && ledger.run.status !== 'completed' && !ledger.run.closedAt) {
        closed.push({ runId: marker.runId, startedAt: marker.startedAt, unsettled: await ledger.close() });
      }
      await this.markClosed(marker.runId);
    }
    return closed;
  }

  /** A run's row, with its report once completed; undefined for an unknown run. */
  async getRun(runId: string): Promise<RunView | undefined> {
    assertRunId(runId);
    const run = await this.getRunRow(runId);
    if (!run || run.status !== 'completed') return run;
    const rows: Row[] = [];
    await this.guard(
      (async () => {
        const queryOptions = { filter: prefixFilter(runId, '~report') };
        for await (const row of this.table.listEntities<Record<string, unknown>>({ queryOptions }))
          rows.push(row);
      })(),
    );
    const text = joinText(rows, 'report');
    return text === undefined ? run : { ...run, report: reportSchema.parse(JSON.parse(text)) as Report };
  }

  /** The latest runs, newest first (at most 50). */
  async listRuns(last: number): Promise<RunRecord[]> {
    const count = Math.max(1, Math.min(MAX_LIST_RUNS, Math.floor(last)));
    const runIds: string[] = [];
    await this.guard(
      (async () => {
        const pages = this.table
          .listEntities<{ runId: string }>({
            queryOptions: { filter: prefixFilter(RUNS_PARTITION, 'i'), select: ['runId'] },
          })
          .byPage({ maxPageSize: count });
        for await (const page of pages) {
          for (const row of page) if (runIds.length < count) runIds.push(row.runId);
          if (runIds.length >= count) break;
        }
      })(),
    );
    const runs = await Promise.all(runIds.map((id) => this.getRunRow(id)));
    return runs.filter((r): r is RunRecord => r !== undefined);
  }

  /** @internal removes a run's open marker (completed or closed). */
  async markClosed(runId: string): Promise<void> {
    await this.guard(
      this.table.deleteEntity(RUNS_PARTITION, openKey(runId)).catch((error: unknown) => {
        if ((error as { statusCode?: unknown }).statusCode !== 404) throw error;
      }),
    );
  }

  private async getRunRow(runId: string): Promise<RunRecord | undefined> {
    try {
      return runRecord(await this.table.getEntity<Record<string, unknown>>(runId, RUN_ROW));
    } catch (error) {
      if ((error as { statusCode?: unknown }).statusCode === 404) return undefined;
      throw describeStorageError(error, this.setting);
    }
  }

  private async openMarkers(): Promise<{ runId: string; startedAt: string }[]> {
    const markers: { runId: string; startedAt: string }[] = [];
    await this.guard(
      (async () => {
        const queryOptions = { filter: prefixFilter(RUNS_PARTITION, 'o') };
        for await (const row of this.table.listEntities<{ runId: string; startedAt: string }>({
          queryOptions,
        })) {
          markers.push({ runId: row.runId, startedAt: row.startedAt });
        }
      })(),
    );
    return markers;
  }

  private async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (error) {
      const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
      if (status === 409 || status === 412)
        throw new LedgerStateError('the run already exists in the ledger');
      throw describeStorageError(error, this.setting);
    }
  }
}

function joinText(rows: Row[], name: string): string | undefined {
  const parts = rows
    .filter((r) => (r.rowKey ?? '').startsWith(`~${name}|`))
    .sort((a, b) => ((a.rowKey ?? '') < (b.rowKey ?? '') ? -1 : 1))
    .map((r) => String(r.data ?? ''));
  return parts.length === 0 ? undefined : parts.join('');
}
