import { X509Certificate } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../errors';
import { parseApplianceUrl } from '../veeam/url';
import { parseDuration } from './durations';
import { parseTargets, type Targets } from './targets';
import { describeOrigin, problemAt } from './problems';
import type { ApiVersionSetting, ApplianceConfig, CleanupConfig, Problem, SettingOrigin } from './types';

export const DEFAULT_CONCURRENCY = 16;
export const MAX_CONCURRENCY = 256;
export const MAX_RUNNING_SESSIONS = 10_000;
export const MAX_KEEP_LATEST = 10_000;
export const API_VERSIONS = ['v1', 'v8.1', 'auto'] as const satisfies readonly ApiVersionSetting[];
const DEFAULT_MAX_SESSION_WAIT_MS = 30 * 60_000;
const BOOLEAN_WORDS = { truthy: ['true', '1', 'yes'], falsy: ['false', '0', 'no'] };
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The single-appliance settings, one string per field; secrets untrimmed, everything else trimmed. */
export interface ApplianceSettings {
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
  batch?: string;
}

/** The settings of the whole run, in both modes (with or without a policy), trimmed. */
export interface RunSettings {
  maxSessionWait?: string;
  timeBudget?: string;
  dryRun?: string;
}

export type ApplianceField = keyof ApplianceSettings;
export type RunField = keyof RunSettings;

/**
 * Runs `parse` and turns its ConfigError into an issue. Only the problem is kept (the caller names the field by
 * its label, which may be a Key Vault secret or a JSON path); it is our own text and never holds the value.
 */
export function viaConfigError<I, T>(parse: (raw: I) => T) {
  return (raw: I, ctx: z.RefinementCtx): T => {
    try {
      return parse(raw);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.problem });
      return z.NEVER;
    }
  };
}

/** Checks that `pem` holds parseable certificates; the ConfigError names VEEAM_CA_CERT, callers keep the problem. */
export function checkPem(pem: string): string {
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

/** The appliance base URL as the client uses it: validated, without trailing slash. */
export function applianceBaseUrl(raw: string): string {
  return parseApplianceUrl(raw).href.replace(/\/+$/, '');
}

function checkTargets(raw: string): Targets {
  const targets = parseTargets(raw);
  if (targets.ids.length + targets.invalid.length === 0)
    throw new ConfigError('VEEAM_VM_IDS', 'lists no VM ids');
  return targets;
}

export const wholeNumber = z.string().transform((raw, ctx) => {
  if (/^\d+$/.test(raw)) return Number(raw);
  ctx.addIssue({ code: 'custom', message: 'must be a whole number' });
  return z.NEVER;
});
const flag = z.string().default('false').pipe(z.stringbool(BOOLEAN_WORDS));
/** A duration (ISO-8601 or seconds) in milliseconds; `setting` only fills parseDuration's unused error field. */
export const duration = (setting: string) =>
  z.string().transform(viaConfigError((raw: string) => parseDuration(raw, setting)));

const applianceSettingsSchema = z.object({
  applianceUrl: z.string().transform(viaConfigError(applianceBaseUrl)),
  username: z.string().transform((raw, ctx) => {
    if (raw.trim() !== '') return raw.trim();
    ctx.addIssue({ code: 'custom', message: 'is empty' });
    return z.NEVER;
  }),
  password: z.string().refine((raw) => raw !== '', { message: 'is empty' }),
  caCert: z.string().transform(viaConfigError(checkPem)).optional(),
  vmIds: z.string().transform(viaConfigError(checkTargets)),
  apiVersion: z.enum(API_VERSIONS).default('auto'),
  concurrency: z
    .string()
    .default(String(DEFAULT_CONCURRENCY))
    .pipe(wholeNumber)
    .pipe(z.number().min(1).max(MAX_CONCURRENCY)),
  maxRunningSessions: wholeNumber.pipe(z.number().min(1).max(MAX_RUNNING_SESSIONS)).optional(),
  minAge: duration('CLEANUP_MIN_AGE').optional(),
  keepLatest: wholeNumber.pipe(z.number().min(0).max(MAX_KEEP_LATEST)).optional(),
  batch: flag,
});

const runSettingsSchema = z.object({
  maxSessionWait: duration('CLEANUP_MAX_SESSION_WAIT').optional(),
  timeBudget: duration('CLEANUP_TIME_BUDGET').optional(),
  dryRun: flag,
});

const ARTICLE = /^[aeiou]/;
const entries = (count: number | bigint): string => `${String(count)} ${count === 1 ? 'entry' : 'entries'}`;

/**
 * Builds a message from the issue's code and our own parameters only: zod's default messages can echo the
 * received value, and a value may be a secret.
 */
export function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'custom':
      return issue.message;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'array') return `must have at least ${entries(issue.minimum)}`;
      if (issue.origin === 'string')
        return issue.minimum === 1
          ? 'must not be empty'
          : `must be at least ${String(issue.minimum)} characters long`;
      return `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${entries(issue.maximum)}`;
      if (issue.origin === 'string') return `must be at most ${String(issue.maximum)} characters long`;
      return `must be at most ${String(issue.maximum)}`;
    case 'invalid_type':
      if (issue.expected === 'int') return 'must be a whole number';
      return `must be ${ARTICLE.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'invalid_format':
      if (issue.format === 'regex') return `must match ${issue.pattern ?? 'the expected pattern'}`;
      if (issue.format === 'guid') return 'must be a GUID (8-4-4-4-12 hexadecimal digits)';
      return `must be a valid ${issue.format}`;
    default:
      return `is not valid (${issue.code})`;
  }
}

/** Issues of a settings schema as problems named by each field's origin. */
function fieldProblems<F extends string>(
  issues: readonly z.core.$ZodIssue[],
  raw: Partial<Record<F, string>>,
  origins: Record<F, SettingOrigin>,
  missing: Partial<Record<F, string | null>>,
): Problem[] {
  const problems: Problem[] = [];
  for (const issue of issues) {
    const field = issue.path[0] as F;
    const absent = raw[field] === undefined;
    if (absent && missing[field] === null) continue;
    const problem = absent ? (missing[field] ?? 'is not set') : describeIssue(issue);
    problems.push(problemAt(origins[field], problem));
  }
  return problems;
}

/** One appliance from the single-appliance settings, without its name and provenance. */
export type SingleApplianceSettings = Omit<ApplianceConfig, 'name' | 'provenance'>;

export interface SettingsCheck<T> {
  settings?: T;
  problems: Problem[];
}

/**
 * Validates the single-appliance settings. `origins` names each field in errors (a flag, an environment
 * variable or a Key Vault secret, with its source); `missing` says what to report when a required field is
 * absent, or null when another problem of the load already explains it.
 */
export function checkSettings(
  raw: ApplianceSettings,
  origins: Record<ApplianceField, SettingOrigin>,
  missing: Partial<Record<ApplianceField, string | null>>,
): SettingsCheck<SingleApplianceSettings> {
  const result = applianceSettingsSchema.safeParse(raw);
  if (!result.success) return { problems: fieldProblems(result.error.issues, raw, origins, missing) };
  const { vmIds, caCert, maxRunningSessions, minAge, keepLatest, ...rest } = result.data;
  if (rest.apiVersion === 'v1' && (minAge !== undefined || keepLatest !== undefined)) {
    const retention = minAge !== undefined ? origins.minAge : origins.keepLatest;
    const version = origins.apiVersion;
    return { problems: [problemAt(retention, v1RetentionProblem(version.name, describeOrigin(version)))] };
  }
  return {
    settings: {
      ...rest,
      ...(maxRunningSessions === undefined ? {} : { maxRunningSessions }),
      ...(minAge === undefined ? {} : { minAgeMs: minAge }),
      ...(keepLatest === undefined ? {} : { keepLatest }),
      ...(caCert === undefined ? {} : { caCert }),
      targets: { kind: 'ids', targets: vmIds },
    },
    problems: [],
  };
}

/**
 * v1 cannot list restore points per VM, so it could only delete every manual snapshot: retention with a
 * pinned v1 is refused up front. `version` is the field that pins v1, `shown` how to name it with its source.
 */
export function v1RetentionProblem(version: string, shown: string): string {
  return `needs API v8.1 (restore points per VM), but ${shown} is v1; set ${version} to v8.1 or auto, or remove the retention settings`;
}

/** Validates the run-wide settings (read in both modes). */
export function checkRunSettings(
  raw: RunSettings,
  origins: Record<RunField, SettingOrigin>,
): SettingsCheck<Pick<CleanupConfig, 'maxSessionWaitMs' | 'timeBudgetMs' | 'dryRun'>> {
  const result = runSettingsSchema.safeParse(raw);
  if (!result.success) return { problems: fieldProblems(result.error.issues, raw, origins, {}) };
  const { maxSessionWait, timeBudget, dryRun } = result.data;
  return {
    settings: {
      dryRun,
      maxSessionWaitMs: maxSessionWait ?? DEFAULT_MAX_SESSION_WAIT_MS,
      ...(timeBudget === undefined ? {} : { timeBudgetMs: timeBudget }),
    },
    problems: [],
  };
}
