import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../errors';
import { parseApplianceUrl } from '../veeam/url';
import { parseDuration } from './durations';
import { parseTargets } from './targets';
import { problemAt } from './sources';
import type { CleanupConfig, Problem, SettingOrigin } from './types';

const DEFAULT_CONCURRENCY = '16';
const MAX_CONCURRENCY = 256;
const MAX_RUNNING_SESSIONS = 10_000;
const MAX_KEEP_LATEST = 10_000;
const DEFAULT_MAX_SESSION_WAIT_MS = 30 * 60_000;
const BOOLEAN_WORDS = { truthy: ['true', '1', 'yes'], falsy: ['false', '0', 'no'] };
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The assembled raw settings, one string per field; secrets untrimmed, everything else trimmed. */
export interface RawSettings {
  applianceUrl?: string;
  username?: string;
  password?: string;
  caCert?: string;
  vmIds?: string;
  apiVersion?: string;
  concurrency?: string;
  maxRunningSessions?: string;
  minAge?: string;
  keepLatest?: string;
  maxSessionWait?: string;
  timeBudget?: string;
  dryRun?: string;
  batch?: string;
}

export type SettingField = keyof RawSettings;

/**
 * Runs `parse` and turns its ConfigError into an issue. Only the problem is kept (the caller names the field by
 * its label, which may be a Key Vault secret); it is our own text and never holds the value.
 */
function viaConfigError<T>(parse: (raw: string) => T) {
  return (raw: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(raw);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.problem });
      return z.NEVER;
    }
  };
}

function checkPem(pem: string): string {
  const blocks = pem.match(PEM_BLOCK);
  if (!blocks)
    throw new ConfigError(
      'VEEAM_CA_CERT',
      'does not contain a PEM certificate (-----BEGIN CERTIFICATE----- block)',
    );
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch {
      throw new ConfigError('VEEAM_CA_CERT', `certificate ${index + 1} of the PEM could not be parsed`);
    }
  });
  return pem;
}

function checkTargets(raw: string) {
  const targets = parseTargets(raw);
  if (targets.ids.length + targets.invalid.length === 0)
    throw new ConfigError('VEEAM_VM_IDS', 'lists no VM ids');
  return targets;
}

const wholeNumber = z.string().transform((raw, ctx) => {
  if (/^\d+$/.test(raw)) return Number(raw);
  ctx.addIssue({ code: 'custom', message: 'must be a whole number' });
  return z.NEVER;
});
const flag = z.string().default('false').pipe(z.stringbool(BOOLEAN_WORDS));
const duration = (setting: string) =>
  z.string().transform(viaConfigError((raw) => parseDuration(raw, setting)));

const settingsSchema = z.object({
  applianceUrl: z
    .string()
    .transform(viaConfigError((raw) => parseApplianceUrl(raw).href.replace(/\/+$/, ''))),
  username: z.string().transform((raw, ctx) => {
    if (raw.trim() !== '') return raw.trim();
    ctx.addIssue({ code: 'custom', message: 'is empty' });
    return z.NEVER;
  }),
  password: z.string().refine((raw) => raw !== '', { message: 'is empty' }),
  caCert: z.string().transform(viaConfigError(checkPem)).optional(),
  vmIds: z.string().transform(viaConfigError(checkTargets)),
  apiVersion: z.enum(['v1', 'v8.1', 'auto']).default('auto'),
  concurrency: z
    .string()
    .default(DEFAULT_CONCURRENCY)
    .pipe(wholeNumber)
    .pipe(z.number().min(1).max(MAX_CONCURRENCY)),
  maxRunningSessions: wholeNumber.pipe(z.number().min(1).max(MAX_RUNNING_SESSIONS)).optional(),
  minAge: duration('CLEANUP_MIN_AGE').optional(),
  keepLatest: wholeNumber.pipe(z.number().min(0).max(MAX_KEEP_LATEST)).optional(),
  maxSessionWait: duration('CLEANUP_MAX_SESSION_WAIT').optional(),
  timeBudget: duration('CLEANUP_TIME_BUDGET').optional(),
  dryRun: flag,
  batch: flag,
});

/**
 * Builds a message from the issue's code and our own parameters only: zod's default messages can echo the
 * received value, and a value may be a secret.
 */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'custom':
      return issue.message;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_type':
      return `must be a ${issue.expected}`;
    default:
      return `is not valid (${issue.code})`;
  }
}

export interface SettingsCheck {
  config?: Omit<CleanupConfig, 'source' | 'provenance'>;
  problems: Problem[];
}

/**
 * Validates the assembled settings. `origins` names each field in errors (a flag, an environment variable or
 * a Key Vault secret, with its source); `missing` says what to report when a required field is absent, or null when another problem of the
 * load already explains it.
 */
export function checkSettings(
  raw: RawSettings,
  origins: Record<SettingField, SettingOrigin>,
  missing: Partial<Record<SettingField, string | null>>,
): SettingsCheck {
  const result = settingsSchema.safeParse(raw);
  if (!result.success) {
    const problems: Problem[] = [];
    for (const issue of result.error.issues) {
      const field = issue.path[0] as SettingField;
      const absent = raw[field] === undefined;
      if (absent && missing[field] === null) continue;
      const problem = absent ? (missing[field] ?? 'is not set') : describeIssue(issue);
      problems.push(problemAt(origins[field], problem));
    }
    return { problems };
  }
  const { maxSessionWait, timeBudget, vmIds, caCert, maxRunningSessions, minAge, keepLatest, ...rest } =
    result.data;
  if (rest.apiVersion === 'v1' && (minAge !== undefined || keepLatest !== undefined)) {
    // v1 cannot list restore points per VM, so it could only delete every manual snapshot: refuse up front.
    const retention = minAge !== undefined ? origins.minAge : origins.keepLatest;
    const version = origins.apiVersion;
    return {
      problems: [
        problemAt(
          retention,
          `needs API v8.1 (restore points per VM), but ${version.name} (${version.source}) is v1; set ${version.name} to v8.1 or auto, or remove the retention settings`,
        ),
      ],
    };
  }
  return {
    config: {
      ...rest,
      ...(maxRunningSessions === undefined ? {} : { maxRunningSessions }),
      ...(minAge === undefined ? {} : { minAgeMs: minAge }),
      ...(keepLatest === undefined ? {} : { keepLatest }),
      ...(caCert === undefined ? {} : { caCert }),
      maxSessionWaitMs: maxSessionWait ?? DEFAULT_MAX_SESSION_WAIT_MS,
      ...(timeBudget === undefined ? {} : { timeBudgetMs: timeBudget }),
      targets: vmIds,
    },
    problems: [],
  };
}
