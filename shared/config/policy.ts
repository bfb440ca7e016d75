import { z } from 'zod';
import { displayId } from '../displayId';
import { ConfigError } from '../errors';
import { parseApplianceUrl } from '../veeam/url';
import { globProblem } from './globs';
import {
  API_VERSIONS,
  applianceBaseUrl,
  describeIssue,
  duration,
  MAX_CONCURRENCY,
  MAX_KEEP_LATEST,
  MAX_RUNNING_SESSIONS,
  viaConfigError,
} from './schema';
import { collectTargets, invalidIdReason } from './targets';
import { SECRET_NAME } from './vault';

const MAX_APPLIANCES = 100;
/** A ledger key part that cannot contain "/": HTTP ids are qualified as "<appliance>/<vmId>". */
const APPLIANCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_APPLIANCE_NAME = 63;
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

const SECRET_REFERENCE_HELP =
  'Names a Key Vault secret when KEY_VAULT_URL is set, otherwise the environment variable spelled the same ' +
  'way upper-cased with "-" turned into "_" (veeam-weu-password → VEEAM_WEU_PASSWORD).';

const secretReference = (holds: string) =>
  z
    .string()
    .regex(SECRET_NAME)
    .meta({ description: `Secret holding the ${holds}. ${SECRET_REFERENCE_HELP}` });

const nonEmpty = z.string().trim().min(1);

const minAge = duration('minAge').meta({
  description:
    'A manual snapshot younger than this is kept: ISO-8601 days/hours/minutes/seconds (P7D, PT12H) or seconds ("3600").',
  examples: ['P7D'],
});
const keepLatest = z
  .number()
  .int()
  .min(0)
  .max(MAX_KEEP_LATEST)
  .meta({ description: 'The newest N manual snapshots of each VM are kept.' });
const concurrency = z
  .number()
  .int()
  .min(1)
  .max(MAX_CONCURRENCY)
  .meta({ description: 'Requests in flight to the appliance at once (default 16).' });
const maxRunningSessions = z
  .number()
  .int()
  .min(1)
  .max(MAX_RUNNING_SESSIONS)
  .meta({ description: 'Deletion sessions the appliance keeps running at once (default: no cap).' });
const apiVersion = z
  .enum(API_VERSIONS)
  .meta({ description: 'REST API version: v1, v8.1, or auto (probe, default). Retention needs v8.1.' });
const batch = z.boolean().meta({ description: 'Use the v8.1 batch delete (default false).' });

const vmIds = z
  .array(z.string())
  .min(1)
  .transform((ids) => collectTargets(ids))
  .meta({
    description:
      'VM ids of the appliance (case-insensitive; repeats are merged, invalid ids are reported InvalidId).',
  });

const discover = z
  .strictObject({
    subscriptionIds: z
      .array(z.guid())
      .min(1)
      .optional()
      .meta({ description: 'One listing per subscription; leave out for every subscription.' }),
    regions: z
      .array(nonEmpty)
      .min(1)
      .optional()
      .meta({ description: 'Azure region names, e.g. westeurope.' }),
    nameContains: nonEmpty.optional().meta({ description: 'Part of the VM name.' }),
  })
  .meta({
    description:
      'List the VMs with manual snapshots that the appliance sees (the controller VM never; deleted VMs too).',
  });

const targets = z
  .strictObject({ vmIds: vmIds.optional(), discover: discover.optional() })
  .superRefine((value, ctx) => {
    const given = (value.vmIds === undefined ? 0 : 1) + (value.discover === undefined ? 0 : 1);
    if (given === 2)
      ctx.addIssue({ code: 'custom', message: 'has both vmIds and discover; give one of them' });
    if (given === 0) ctx.addIssue({ code: 'custom', message: 'needs vmIds or discover' });
  })
  .transform((value) =>
    value.vmIds
      ? { kind: 'ids' as const, targets: value.vmIds }
      : { kind: 'discover' as const, filter: value.discover ?? {} },
  )
  .meta({
    description: 'Either a list of VM ids or a discovery filter.',
    oneOf: [{ required: ['vmIds'] }, { required: ['discover'] }],
  });

const excludedId = z
  .string()
  .superRefine((id, ctx) => {
    const reason = invalidIdReason(id.trim());
    if (reason) ctx.addIssue({ code: 'custom', message: reason });
  })
  .transform((id) => id.trim());
const glob = z.string().superRefine((value, ctx) => {
  const problem = globProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const exclude = z
  .strictObject({
    vmIds: z.array(excludedId).optional().meta({ description: 'VM ids never touched.' }),
    names: z
      .array(glob)
      .optional()
      .meta({ description: 'VM name globs: * any run, ? one character, case-insensitive (sql-*, dc??).' }),
    resourceGroups: z
      .array(nonEmpty)
      .optional()
      .meta({ description: 'Resource group names, case-insensitive.' }),
  })
  .meta({ description: 'VMs matching any rule are reported Excluded and get no request.' });

const appliance = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(MAX_APPLIANCE_NAME)
      .regex(APPLIANCE_NAME)
      .meta({ description: 'Unique name (case-insensitive): letters, digits, ".", "_" and "-".' }),
    url: z
      .string()
      .transform(viaConfigError(policyUrl))
      .meta({ description: 'Appliance base URL: https:// (http:// only for loopback).' }),
    usernameSecret: secretReference('user name'),
    passwordSecret: secretReference('password'),
    caCertSecret: secretReference('PEM certificate(s) to trust for the appliance').optional(),
    apiVersion: apiVersion.optional(),
    concurrency: concurrency.optional(),
    maxRunningSessions: maxRunningSessions.optional(),
    batch: batch.optional(),
    retention: z
      .strictObject({ minAge: minAge.optional(), keepLatest: keepLatest.optional() })
      .optional()
      .meta({ description: 'Overrides defaults.minAge and defaults.keepLatest for this appliance.' }),
    targets,
    exclude: exclude.optional(),
  })
  .meta({ description: 'One Veeam Backup for Microsoft Azure appliance.' });

const policySchema = z
  .strictObject({
    $schema: z
      .string()
      .optional()
      .meta({ description: 'This schema (docs/cleanup-policy.schema.json), for editors.' }),
    defaults: z
      .strictObject({
        minAge: minAge.optional(),
        keepLatest: keepLatest.optional(),
        concurrency: concurrency.optional(),
        maxRunningSessions: maxRunningSessions.optional(),
        apiVersion: apiVersion.optional(),
        batch: batch.optional(),
      })
      .optional()
      .meta({ description: 'Values every appliance gets unless it sets its own.' }),
    appliances: z.array(appliance).min(1).max(MAX_APPLIANCES),
  })
  .meta({
    title: 'Veeam snapshot cleanup policy',
    description:
      'Which appliances a cleanup run covers, their targets, exclusions and retention. Holds secret names only, never secret values.',
  });

/** A cleanup policy as an admin writes it (the JSON document). */
export type CleanupPolicyDocument = z.input<typeof policySchema>;
/** A validated cleanup policy: URLs normalised, durations in milliseconds, ids collected. */
export type CleanupPolicy = z.output<typeof policySchema>;
export type PolicyAppliance = CleanupPolicy['appliances'][number];

/** The JSON Schema of the policy document (what an editor completes and checks), from the zod schema. */
export function cleanupPolicyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(policySchema, { io: 'input' }) as Record<string, unknown>;
}

/** Appliance URLs are printed in the provenance line, so nothing beyond the origin and a path may hide in them. */
function policyUrl(raw: string): string {
  const url = parseApplianceUrl(raw);
  if (url.search || url.hash) throw new ConfigError('url', 'must not contain a query or fragment');
  return applianceBaseUrl(raw);
}

/** One thing wrong with the document, at a JSON path. */
export interface PolicyIssue {
  path: string;
  problem: string;
}

/**
 * Field names that would hold a secret value, compared without case, "-", "_" and spaces: the policy names
 * secrets, it never holds them. Keys naming a reference field get that field as the advice.
 */
const SECRET_VALUE_FIELDS: ReadonlyArray<[RegExp, string]> = [
  [/^(password|passwd|pwd|pass|passphrase)$|password/, 'passwordSecret'],
  [/^(username|user|login|userid)$/, 'usernameSecret'],
  [/^(cacert|cacertificate|certificate|cert|pem|capem)$/, 'caCertSecret'],
  [
    /^(secret|secretvalue|clientsecret|key|apikey|privatekey|credential|credentials|connectionstring|sas|sastoken|authorization)$|token|apikey/,
    '',
  ],
];

function unknownFieldProblem(key: string): string {
  const normalised = key.toLowerCase().replace(/[-_\s]/g, '');
  const match = SECRET_VALUE_FIELDS.find(([pattern]) => pattern.test(normalised));
  if (!match) return 'is not a known field';
  const advice = match[1] ? `name it with ${match[1]}` : 'name it with a *Secret field';
  return `holds a secret value; store it in Key Vault (or the environment) and ${advice}`;
}

/** appliances[1].targets.discover.subscriptionIds[0]; odd keys quoted and cut, never a value. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const key = String(part);
      out += IDENTIFIER.test(key) ? `${out === '' ? '' : '.'}${key}` : `[${JSON.stringify(displayId(key))}]`;
    }
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function issueProblems(issue: z.core.$ZodIssue, document: unknown): PolicyIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      path: formatPath([...issue.path, key]),
      problem: unknownFieldProblem(key),
    }));
  }
  const absent = issue.code === 'invalid_type' && valueAt(document, issue.path) === undefined;
  return [{ path: formatPath(issue.path), problem: absent ? 'is required' : describeIssue(issue) }];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Checks across appliances, on the raw document so they are reported even when an appliance has other
 * problems: names are unique without regard to case, and no two appliances share an origin (one client,
 * token and breaker per appliance).
 */
function crossApplianceIssues(document: unknown): PolicyIssue[] {
  const list = isRecord(document) && Array.isArray(document.appliances) ? document.appliances : [];
  const names = new Map<string, number>();
  const origins = new Map<string, number>();
  const issues: PolicyIssue[] = [];
  list.forEach((entry: unknown, index) => {
    if (!isRecord(entry)) return;
    if (typeof entry.name === 'string') {
      const first = names.get(entry.name.toLowerCase());
      if (first === undefined) names.set(entry.name.toLowerCase(), index);
      else
        issues.push({
          path: `appliances[${index}].name`,
          problem: `repeats the name of appliances[${first}] (names are compared without regard to case)`,
        });
    }
    if (typeof entry.url === 'string') {
      let origin: string;
      try {
        origin = parseApplianceUrl(entry.url).origin;
      } catch {
        return; // reported by the schema
      }
      const first = origins.get(origin);
      if (first === undefined) origins.set(origin, index);
      else
        issues.push({
          path: `appliances[${index}].url`,
          problem: `has the same origin (scheme, host and port) as appliances[${first}].url`,
        });
    }
  });
  return issues;
}

export interface PolicyParse {
  policy?: CleanupPolicy;
  /** Everything wrong with the document, at its JSON path; empty when `policy` is set. */
  issues: PolicyIssue[];
  /** Set when the text is not a JSON object at all; the issue is about the whole document. */
  unreadable?: string;
}

/** Parses and validates a policy document as a whole. No message quotes the text or a value from it. */
export function parsePolicy(text: string): PolicyParse {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    // The parser's message quotes the text around the error, which may hold a pasted secret.
    return { issues: [], unreadable: 'is not valid JSON' };
  }
  if (!isRecord(document)) return { issues: [], unreadable: 'is not a JSON object' };
  const result = policySchema.safeParse(document);
  const issues = [
    ...(result.success ? [] : result.error.issues.flatMap((issue) => issueProblems(issue, document))),
    ...crossApplianceIssues(document),
  ];
  return issues.length > 0 || !result.success ? { issues } : { policy: result.data, issues };
}
