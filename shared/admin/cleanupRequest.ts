import { z } from 'zod';
import { stricterLimit } from '../cleanup/plan';
import { MIN_SUBMIT_WINDOW_MS, submitMarginFor } from '../cleanup/types';
import type { ApplianceConfig, CleanupConfig } from '../config';
import { parseDuration } from '../config/durations';
import { displayId } from '../displayId';
import { ConfigError } from '../errors';
import { problem, type ProblemResponse } from './problem';

/** Azure's load balancer cuts HTTP answers at 230 s; 220 leaves room to write the report. */
export const MAX_WAIT_SECONDS = 220;
/** The wait when the body names none: a run in place uses most of the HTTP answer's time; a background
 * run answers soon (202) and goes on in the queue-triggered function. */
export const DEFAULT_WAIT_SECONDS = { inPlace: 200, background: 25 } as const;
export const MAX_BODY_BYTES = 256 * 1024;
export const MAX_VM_IDS = 5000;

export interface CleanupRequest {
  /** Bare ids, or qualified as `<appliance>/<vmId>`; resolved against the configuration by resolveRequestTargets. */
  vmIds?: string[];
  /** Restricts the run to the appliance of this policy name. */
  appliance?: string;
  dryRun?: boolean;
  /** Seconds to wait for the run before answering; absent: DEFAULT_WAIT_SECONDS for the mode. */
  waitSeconds?: number;
  /** Body field `minAge`, in ms: only snapshots at least this old may be deleted. */
  minAgeMs?: number;
  /** Body field `keepLatest`: the newest manual snapshots of each VM that stay. */
  keepLatest?: number;
}

/** One entry of a problem's `invalidParams` extension (RFC 9457 §3.2). */
export interface InvalidParam {
  name: string;
  reason: string;
}

const FIELDS = ['vmIds', 'appliance', 'dryRun', 'waitSeconds', 'minAge', 'keepLatest'] as const;

const MIN_AGE_FORMAT = 'must be an ISO-8601 duration (P7D, PT36H) or a number of seconds';

const minAge = z.unknown().transform((raw, ctx) => {
  let rule = MIN_AGE_FORMAT;
  if (typeof raw === 'string' || typeof raw === 'number') {
    try {
      return parseDuration(String(raw), 'minAge');
    } catch (error) {
      // parseDuration's problem text never holds the value.
      if (!(error instanceof ConfigError)) throw error;
      rule = error.problem;
    }
  }
  ctx.addIssue({ code: 'custom', message: `minAge ${rule}` });
  return z.NEVER;
});

const bodySchema = z.strictObject({
  vmIds: z.array(z.string()).min(1).max(MAX_VM_IDS).optional(),
  appliance: z.string().min(1).max(63).optional(),
  dryRun: z.boolean().optional(),
  waitSeconds: z.number().min(0).max(MAX_WAIT_SECONDS).optional(),
  minAge: minAge.optional(),
  keepLatest: z.int().min(0).optional(),
});

/** Describes a zod issue by its field and rule; zod's own messages may quote the received value. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.join('.') : 'body';
  switch (issue.code) {
    case 'unrecognized_keys':
      return `unknown field(s): ${issue.keys.map(displayId).join(', ')} (allowed: ${FIELDS.join(', ')})`;
    case 'invalid_type':
      if (field === 'body') return 'the body must be a JSON object';
      return issue.expected === 'int'
        ? `${field} must be a whole number`
        : `${field} must be of type ${issue.expected}`;
    case 'too_small':
      if (field === 'vmIds') return 'vmIds must not be empty; leave it out to run every configured target';
      return `${field} must be ${issue.inclusive ? 'at least' : 'greater than'} ${issue.minimum}`;
    case 'too_big':
      if (field === 'vmIds') return `vmIds lists more than ${MAX_VM_IDS} ids`;
      return field === 'waitSeconds'
        ? `waitSeconds must be at most ${MAX_WAIT_SECONDS} (Azure cuts HTTP answers at 230 s)`
        : `${field} is too large`;
    case 'custom':
      return issue.message;
    default:
      return `${field} is invalid`;
  }
}

export function bodyTooLarge(): ProblemResponse {
  return problem(413, `The body is larger than ${MAX_BODY_BYTES / 1024} KB`);
}

/** application/json or any +json type (application/merge-patch+json, …), parameters ignored. */
function isJsonMediaType(contentType: string | null): boolean {
  const essence = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/.test(essence);
}

/**
 * Checks the body of POST /api/cleanup against its schema. Returns the request, or the 4xx problem to answer.
 * A body that is present must be declared JSON; an empty body needs no Content-Type.
 */
export function parseCleanupRequest(
  text: string,
  contentType: string | null,
): { request: CleanupRequest } | { problem: ProblemResponse } {
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) return { problem: bodyTooLarge() };
  if (text.trim() === '') return { request: {} };
  if (!isJsonMediaType(contentType)) {
    return {
      problem: problem(
        415,
        'The body must be JSON: send it with Content-Type: application/json',
        {},
        {
          'accept-post': 'application/json',
        },
      ),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { problem: problem(400, 'The body is not valid JSON') };
  }
  const parsed = bodySchema.safeParse(json);
  if (!parsed.success) {
    return { problem: problem(400, parsed.error.issues.map(describeIssue).join('; ')) };
  }
  const { vmIds, appliance, dryRun, waitSeconds, minAge: minAgeMs, keepLatest } = parsed.data;
  return {
    request: {
      ...(vmIds ? { vmIds: [...new Set(vmIds)] } : {}),
      ...(appliance !== undefined ? { appliance } : {}),
      ...(dryRun !== undefined ? { dryRun } : {}),
      ...(waitSeconds !== undefined ? { waitSeconds } : {}),
      ...(minAgeMs !== undefined ? { minAgeMs } : {}),
      ...(keepLatest !== undefined ? { keepLatest } : {}),
    },
  };
}

/**
 * While a run executes within the HTTP wait, a wait that leaves at most 1 s after the submit margin could
 * submit nothing. Once runs continue in the background, a short wait only means "answer soon" and this check
 * goes away.
 */
export function checkWaitLeavesTimeToSubmit(waitSeconds: number): ProblemResponse | undefined {
  const waitMs = waitSeconds * 1000;
  const marginMs = submitMarginFor(waitMs);
  if (waitMs - marginMs > MIN_SUBMIT_WINDOW_MS) return undefined;
  const reason =
    `leaves no time to submit: a run keeps ${marginMs / 1000} s free before the end of the wait, ` +
    `so waitSeconds must leave more than ${MIN_SUBMIT_WINDOW_MS / 1000} s after that`;
  return problem(400, `waitSeconds ${reason}`, {
    invalidParams: [{ name: 'waitSeconds', reason }] satisfies InvalidParam[],
  });
}

/**
 * The limits the body can only tighten: the run's dry-run setting, and the strictest retention of the
 * appliances the run covers (so the body is no looser than any of them).
 */
export interface TightenableConfig {
  dryRun: boolean;
  minAgeMs?: number;
  keepLatest?: number;
}

/** The limits of a run over `appliances`: a limit any of them sets, at its strictest. */
export function tightenableOf(
  config: Pick<CleanupConfig, 'dryRun'>,
  appliances: ReadonlyArray<Pick<ApplianceConfig, 'minAgeMs' | 'keepLatest'>>,
): TightenableConfig {
  const minAgeMs = appliances.reduce<number | undefined>((m, a) => stricterLimit(m, a.minAgeMs), undefined);
  const keepLatest = appliances.reduce<number | undefined>(
    (m, a) => stricterLimit(m, a.keepLatest),
    undefined,
  );
  return {
    dryRun: config.dryRun,
    ...(minAgeMs !== undefined ? { minAgeMs } : {}),
    ...(keepLatest !== undefined ? { keepLatest } : {}),
  };
}

/**
 * A body field that may only make a run more conservative than the app's configuration. Both sides map to a
 * number where larger is more conservative; an unset side allows anything.
 */
interface TighteningRule {
  name: (typeof FIELDS)[number];
  requested(request: CleanupRequest): number | undefined;
  configured(config: TightenableConfig): number | undefined;
  reason: string;
}

const TIGHTENING_RULES: readonly TighteningRule[] = [
  {
    name: 'dryRun',
    requested: (r) => (r.dryRun === undefined ? undefined : Number(r.dryRun)),
    configured: (c) => Number(c.dryRun),
    reason: 'may not be false while CLEANUP_DRY_RUN is true',
  },
  {
    name: 'minAge',
    requested: (r) => r.minAgeMs,
    configured: (c) => c.minAgeMs,
    reason: 'may not be shorter than CLEANUP_MIN_AGE (or the minAge of the policy)',
  },
  {
    name: 'keepLatest',
    requested: (r) => r.keepLatest,
    configured: (c) => c.keepLatest,
    reason: 'may not be smaller than CLEANUP_KEEP_LATEST (or the keepLatest of the policy)',
  },
];

/** The body may make a run more conservative than the configuration (dry run on, older, keep more), never less. */
export function checkTightensOnly(
  request: CleanupRequest,
  config: TightenableConfig,
): ProblemResponse | undefined {
  const invalidParams: InvalidParam[] = TIGHTENING_RULES.filter((rule) => {
    const requested = rule.requested(request);
    const configured = rule.configured(config);
    return requested !== undefined && configured !== undefined && requested < configured;
  }).map(({ name, reason }) => ({ name, reason }));
  if (invalidParams.length === 0) return undefined;
  return problem(
    400,
    'The body may only make the run more conservative than the configuration: ' +
      invalidParams.map((p) => `${p.name} ${p.reason}`).join('; '),
    { invalidParams },
  );
}

const SESSION_ID = /^[A-Za-z0-9-]{1,128}$/;

export function isValidSessionId(id: string | undefined): id is string {
  return id !== undefined && SESSION_ID.test(id);
}
