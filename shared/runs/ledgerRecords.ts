import { z } from 'zod';
import type {
  ApplianceSummary,
  LogEntry,
  Report,
  RunFailure,
  SnapshotInfo,
  Totals,
  VmResult,
} from '../report';

// What the ledger stores of a report and a VM result: exactly the report's fields, parsed, so nothing a
// caller attached (a config object, a client, a token) is ever written. The checks at the bottom fail the
// type check when shared/report.ts gains a field these schemas don't know.

const logEntry = z.object({ time: z.string(), status: z.string(), message: z.string() });
const snapshot = z.object({
  id: z.string(),
  pointInTime: z.string(),
  vmName: z.string().optional(),
  regionName: z.string().optional(),
  action: z.enum(['deleted', 'kept', 'immutable', 'locked', 'failed', 'wouldDelete', 'gone']).optional(),
  reason: z.string().optional(),
  sessionId: z.string().optional(),
  error: z.string().optional(),
});
const outcome = z.enum([
  'Succeeded',
  'Warning',
  'Failed',
  'TimedOut',
  'Skipped',
  'InvalidId',
  'WouldDelete',
  'Excluded',
]);
// Rows written before runs could span several appliances hold the single appliance's results.
const SINGLE_APPLIANCE = 'default';

export const vmResultSchema = z.object({
  vmId: z.string(),
  appliance: z.string().default(SINGLE_APPLIANCE),
  outcome,
  sessionId: z.string().optional(),
  sessionStatus: z.string().optional(),
  attempts: z.number(),
  durationMs: z.number(),
  error: z.string().optional(),
  skipReason: z.enum(['deadline', 'aborted', 'appliance unavailable', 'retention needs API v8.1']).optional(),
  note: z.string().optional(),
  log: z.array(logEntry).optional(),
  snapshots: z.array(snapshot).optional(),
  excludedBy: z.string().optional(),
  statusUrl: z.string().optional(),
  deletedSnapshots: z.number().optional(),
  keptSnapshots: z.number().optional(),
  lockedSnapshots: z.number().optional(),
});

const totals = z.object({
  targets: z.number(),
  succeeded: z.number(),
  warning: z.number(),
  failed: z.number(),
  timedOut: z.number(),
  skipped: z.number(),
  invalid: z.number(),
  wouldDelete: z.number(),
  excluded: z.number().default(0),
});
const failure = z.object({ kind: z.enum(['unreachable', 'auth', 'mfa', 'tls']), message: z.string() });
const applianceSummary = z.object({
  name: z.string(),
  origin: z.string(),
  apiVersion: z.enum(['v1', 'v8.1']).nullable(),
  totals,
  failure: failure.optional(),
});

export const reportSchema = z.object({
  runId: z.string(),
  trigger: z.enum(['timer', 'http', 'cli', 'demo']),
  apiVersion: z.enum(['v1', 'v8.1']).nullable(),
  dryRun: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  duplicatesRemoved: z.number(),
  totals,
  results: z.array(vmResultSchema),
  appliances: z.array(applianceSummary).default([]),
  failure: failure.optional(),
  resumedFrom: z
    .object({ runId: z.string(), settledBefore: z.number(), interruptedAt: z.string().optional() })
    .optional(),
});

type Exact<Schema, Type> = [Schema] extends [Type] ? ([Type] extends [Schema] ? true : false) : false;
type Keys<Schema, Type> = Exclude<keyof Type, keyof Schema> extends never ? true : false;
const exact: [
  Exact<z.infer<typeof logEntry>, LogEntry>,
  Exact<z.infer<typeof snapshot>, SnapshotInfo>,
  Exact<z.infer<typeof vmResultSchema>, VmResult>,
  Keys<z.infer<typeof vmResultSchema>, VmResult>,
  Exact<z.infer<typeof totals>, Totals>,
  Exact<z.infer<typeof failure>, RunFailure>,
  Exact<z.infer<typeof applianceSummary>, ApplianceSummary>,
  Exact<z.infer<typeof reportSchema>, Report>,
  Keys<z.infer<typeof reportSchema>, Report>,
] = [true, true, true, true, true, true, true, true, true];
void exact;
