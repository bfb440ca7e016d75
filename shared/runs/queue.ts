import type { QueueClient } from '@azure/storage-queue';
import { z } from 'zod';
import { strictRunRequestSchema, type RunRequest } from './request';
import { describeStorageError } from './storage';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A queue message holds 64 KiB; base64 makes 48 KiB of JSON the most one can carry. */
const MAX_MESSAGE_JSON_BYTES = 48 * 1024;

const runMessageSchema = z.strictObject({
  runId: z.string().regex(UUID, 'must be a UUID'),
  trigger: z.literal('http'),
  /** Absent when it was too large for a message: then the ledger's copy (openRun(runId).request) counts. */
  request: strictRunRequestSchema.optional(),
});

/** A background run, as enqueued by POST /api/cleanup and read by the queue-triggered function. */
export type RunMessage = z.infer<typeof runMessageSchema>;

/** A message that is not a valid run request: log it (runId if any) and drop it; never retry it. */
export class InvalidRunMessageError extends Error {
  override readonly name = 'InvalidRunMessageError';
  constructor(
    /** JSON paths and what is wrong with them; never the values. */
    readonly problems: string[],
    /** The message's runId when it had a well-formed one, for the log line. */
    readonly runId?: string,
  ) {
    super(`invalid run message: ${problems.join('; ')}`);
  }
}

/**
 * Validates a queue message. Accepts what the Functions queue trigger hands the handler (the JSON already
 * parsed into an object, or a string), and the raw base64 text of a message.
 */
export function parseRunMessage(raw: unknown): RunMessage {
  let value = raw;
  if (typeof raw === 'string' || Buffer.isBuffer(raw)) {
    value = parseText(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw);
  }
  const parsed = runMessageSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const runId = (value as { runId?: unknown } | null)?.runId;
  throw new InvalidRunMessageError(
    parsed.error.issues.map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join('.') : '(message)';
      return issue.code === 'unrecognized_keys'
        ? `${path}: unknown field(s) ${issue.keys.join(', ')}`
        : `${path}: ${issue.message}`;
    }),
    typeof runId === 'string' && UUID.test(runId) ? runId : undefined,
  );
}

function parseText(text: string): unknown {
  const trimmed = text.trim();
  // JSON as is, or base64 of JSON (what enqueueRun writes and the trigger decodes by default).
  const json = trimmed.startsWith('{') ? trimmed : Buffer.from(trimmed, 'base64').toString('utf8');
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw new InvalidRunMessageError(['(message): is not JSON']);
  }
}

/**
 * Enqueues a background run on `snapshot-cleanup-runs`, base64-encoded JSON: the Functions queue trigger's
 * default messageEncoding (host.json does not change it). Write the run row (Ledger.createRun, with the
 * request) first: a request too large for a message is sent without it, and the handler reads the ledger's.
 */
export async function enqueueRun(options: {
  /** RunStorage.queue. */
  queue: QueueClient;
  /** The setting storage errors name (RunStorage.settings.queue). */
  setting: string;
  runId: string;
  request: RunRequest;
}): Promise<void> {
  const message = parseRunMessage({ runId: options.runId, trigger: 'http', request: options.request });
  let json = JSON.stringify(message);
  if (Buffer.byteLength(json) > MAX_MESSAGE_JSON_BYTES) {
    // A long vmIds list does not fit a message; createRun stored the request in the ledger already.
    json = JSON.stringify({ runId: message.runId, trigger: message.trigger });
  }
  try {
    await options.queue.sendMessage(Buffer.from(json, 'utf8').toString('base64'), {
      abortSignal: AbortSignal.timeout(20_000),
    });
  } catch (error) {
    throw describeStorageError(error, options.setting);
  }
}
