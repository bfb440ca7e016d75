import { z } from 'zod';
import { problem, type ProblemResponse } from './problem';

/** Azure's load balancer cuts HTTP answers at 230 s; 220 leaves room to write the report. */
export const MAX_WAIT_SECONDS = 220;
export const DEFAULT_WAIT_SECONDS = 200;
export const MAX_BODY_BYTES = 256 * 1024;
export const MAX_VM_IDS = 5000;

export interface CleanupRequest {
  vmIds?: string[];
  dryRun?: boolean;
  waitSeconds: number;
}

const bodySchema = z.strictObject({
  vmIds: z.array(z.string()).min(1).max(MAX_VM_IDS).optional(),
  dryRun: z.boolean().optional(),
  waitSeconds: z.number().positive().max(MAX_WAIT_SECONDS).optional(),
});

/** Describes a zod issue by its field and rule; zod's own messages may quote the received value. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field(s): ${issue.keys.join(', ')} (allowed: vmIds, dryRun, waitSeconds)`;
    case 'invalid_type':
      return field === 'body'
        ? 'the body must be a JSON object'
        : `${field} must be of type ${issue.expected}`;
    case 'too_small':
      return field === 'vmIds'
        ? 'vmIds must not be empty; leave it out to run every configured target'
        : `${field} must be greater than 0`;
    case 'too_big':
      return field === 'vmIds'
        ? `vmIds lists more than ${MAX_VM_IDS} ids`
        : `${field} must be at most ${MAX_WAIT_SECONDS} (Azure cuts HTTP answers at 230 s)`;
    default:
      return `${field} is invalid`;
  }
}

export function bodyTooLarge(): ProblemResponse {
  return problem(413, `The body is larger than ${MAX_BODY_BYTES / 1024} KB`);
}

/** Checks the body of POST /api/cleanup against its schema. Returns the request, or the 4xx problem to answer. */
export function parseCleanupRequest(
  text: string,
): { request: CleanupRequest } | { problem: ProblemResponse } {
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) return { problem: bodyTooLarge() };
  let json: unknown = {};
  if (text.trim() !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      return { problem: problem(400, 'The body is not valid JSON') };
    }
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) {
    return { problem: problem(400, parsed.error.issues.map(describeIssue).join('; ')) };
  }
  const { vmIds, dryRun, waitSeconds } = parsed.data;
  return {
    request: {
      ...(vmIds ? { vmIds: [...new Set(vmIds)] } : {}),
      ...(dryRun !== undefined ? { dryRun } : {}),
      waitSeconds: waitSeconds ?? DEFAULT_WAIT_SECONDS,
    },
  };
}

/** The configured targets are the allow-list: an admin can narrow a run, never widen it. */
export function checkAllowList(
  vmIds: readonly string[] | undefined,
  allowList: readonly string[],
): ProblemResponse | undefined {
  if (!vmIds) return undefined;
  const allowed = new Set(allowList);
  const outside = vmIds.filter((id) => !allowed.has(id));
  if (outside.length === 0) return undefined;
  const shown = outside.slice(0, 5).map((id) => JSON.stringify(id.slice(0, 128)));
  return problem(
    400,
    `vmIds must be configured targets; not configured: ${shown.join(', ')}` +
      (outside.length > 5 ? ` and ${outside.length - 5} more` : ''),
    { notConfigured: outside.slice(0, 100) },
  );
}

const SESSION_ID = /^[A-Za-z0-9-]{1,128}$/;

export function isValidSessionId(id: string | undefined): id is string {
  return id !== undefined && SESSION_ID.test(id);
}
