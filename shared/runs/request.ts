import { z } from 'zod';
import type { TargetRef } from '../cleanup/types';

/** Bounds a queued or recorded request the way the admin endpoint bounds its body. */
const MAX_VM_IDS = 10_000;
const MAX_ID_LENGTH = 1024;

// Policy appliance names: letters, digits, '.', '_' and '-', so never a '/'.
const APPLIANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
/** Requests recorded before runs spanned several appliances name bare ids of the single appliance. */
const SINGLE_APPLIANCE = 'default';

const shape = {
  /** Targets as `<appliance>/<vmId>` (see formatTargetRef). */
  vmIds: z.array(z.string().min(1).max(MAX_ID_LENGTH)).min(1).max(MAX_VM_IDS).optional(),
  appliance: z.string().regex(APPLIANCE_NAME).optional(),
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

/** A target as one string, `<appliance>/<vmId>`: appliance names never hold a '/'. */
export function formatTargetRef(target: TargetRef): string {
  return `${target.appliance}/${target.vmId}`;
}

export function parseTargetRef(text: string): TargetRef {
  const slash = text.indexOf('/');
  return slash < 0
    ? { appliance: SINGLE_APPLIANCE, vmId: text }
    : { appliance: text.slice(0, slash), vmId: text.slice(slash + 1) };
}
