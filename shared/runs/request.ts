import { z } from 'zod';

/** Bounds a queued or recorded request the way the admin endpoint bounds its body. */
const MAX_VM_IDS = 10_000;
const MAX_ID_LENGTH = 1024;

const shape = {
  vmIds: z.array(z.string().min(1).max(MAX_ID_LENGTH)).min(1).max(MAX_VM_IDS).optional(),
  dryRun: z.boolean().optional(),
  /** An ISO-8601 duration or seconds, validated by the engine's policy parsing when the run starts. */
  minAge: z.string().min(1).max(64).optional(),
  keepLatest: z.number().int().min(0).max(10_000).optional(),
};

/** What an admin asked a background run to do: the only request fields a message or the ledger carries. */
export type RunRequest = z.infer<typeof strictRunRequestSchema>;

/** Rejects unknown fields (a queue message that is not exactly a run request is dropped). */
export const strictRunRequestSchema = z.strictObject(shape);

/** Keeps only the known fields: whatever else a caller's object holds never reaches storage. */
export const runRequestSchema = z.object(shape);
