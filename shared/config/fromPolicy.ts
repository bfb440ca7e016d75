import { ConfigError } from '../errors';
import { parsePolicy, type CleanupPolicy, type PolicyIssue } from './policy';
import type { PolicyText } from './policySource';
import { describeOrigin } from './problems';
import { checkPem, DEFAULT_CONCURRENCY, v1RetentionProblem } from './schema';
import { environmentName, resolveReferences, type ResolvedReference } from './secretRefs';
import { settingsBesidePolicy } from './singleAppliance';
import type { SettingReader } from './sources';
import type { ApplianceConfig, CommandLineSettings, Exclusions, Problem, TargetSource } from './types';
import type { Vault } from './vault';

/** The appliances of a configuration, or the problems that keep it from being one. */
export interface AppliancesResult {
  appliances?: ApplianceConfig[];
  problems: Problem[];
}

export interface PolicyContext {
  read: SettingReader;
  commandLine?: CommandLineSettings;
  vault?: Vault;
  /** Problems found before the policy (vault URL, run-wide settings): with any, no secret is read. */
  before: readonly Problem[];
}

type SecretKey = 'username' | 'password' | 'caCert';

/** A policy appliance with its defaults applied; its secrets are still names. */
export interface PlannedAppliance {
  /** appliances[<index>], the JSON path problems name. */
  path: string;
  name: string;
  applianceUrl: string;
  /** Secret names, by the value they hold. */
  secrets: { username: string; password: string; caCert?: string };
  settings: Pick<
    ApplianceConfig,
    'apiVersion' | 'concurrency' | 'maxRunningSessions' | 'batch' | 'minAgeMs' | 'keepLatest'
  >;
  targets: TargetSource;
  exclude?: Exclusions;
}

/** The first of `candidates` that has a value, with the JSON path it came from. */
function firstSet<T>(candidates: Array<[T | undefined, string]>): { value: T; path: string } | undefined {
  const found = candidates.find(([value]) => value !== undefined);
  return found && { value: found[0] as T, path: found[1] };
}

/**
 * Applies `defaults` to each appliance field by field (an appliance's own value wins), and refuses retention
 * on an appliance pinned to v1, naming the retention field and the field that pins v1.
 */
function planAppliances(policy: CleanupPolicy): {
  appliances: PlannedAppliance[];
  issues: PolicyIssue[];
} {
  const defaults = policy.defaults ?? {};
  const issues: PolicyIssue[] = [];
  const appliances = policy.appliances.map((appliance, index): PlannedAppliance => {
    const path = `appliances[${index}]`;
    const version = firstSet([
      [appliance.apiVersion, `${path}.apiVersion`],
      [defaults.apiVersion, 'defaults.apiVersion'],
    ]);
    const minAge = firstSet([
      [appliance.retention?.minAge, `${path}.retention.minAge`],
      [defaults.minAge, 'defaults.minAge'],
    ]);
    const keepLatest = firstSet([
      [appliance.retention?.keepLatest, `${path}.retention.keepLatest`],
      [defaults.keepLatest, 'defaults.keepLatest'],
    ]);
    const retention = minAge ?? keepLatest;
    if (version?.value === 'v1' && retention) {
      issues.push({ path: retention.path, problem: v1RetentionProblem(version.path, version.path) });
    }
    const maxRunningSessions = appliance.maxRunningSessions ?? defaults.maxRunningSessions;
    return {
      path,
      name: appliance.name,
      applianceUrl: appliance.url,
      secrets: {
        username: appliance.usernameSecret,
        password: appliance.passwordSecret,
        ...(appliance.caCertSecret === undefined ? {} : { caCert: appliance.caCertSecret }),
      },
      settings: {
        apiVersion: version?.value ?? 'auto',
        concurrency: appliance.concurrency ?? defaults.concurrency ?? DEFAULT_CONCURRENCY,
        batch: appliance.batch ?? defaults.batch ?? false,
        ...(maxRunningSessions === undefined ? {} : { maxRunningSessions }),
        ...(minAge === undefined ? {} : { minAgeMs: minAge.value }),
        ...(keepLatest === undefined ? {} : { keepLatest: keepLatest.value }),
      },
      targets: appliance.targets,
      ...(appliance.exclude === undefined ? {} : { exclude: appliance.exclude }),
    };
  });
  return { appliances, issues };
}

/** Why a resolved secret value cannot be used, or undefined; never the value. */
const VALUE_CHECKS: Record<SecretKey, (value: string) => string | undefined> = {
  username: (value) => (value.trim() === '' ? 'is empty' : undefined),
  password: (value) => (value === '' ? 'is empty' : undefined),
  caCert: (value) => {
    try {
      checkPem(value);
      return undefined;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problem;
    }
  },
};

/**
 * The appliances of a policy with their secret values filled in. A secret that is absent or unusable is a
 * problem at its reference field (appliances[0].passwordSecret) naming the secret or variable, never the value.
 * `source` names the policy ("CLEANUP_POLICY (environment)").
 */
function withSecrets(
  planned: readonly PlannedAppliance[],
  references: ReadonlyMap<string, ResolvedReference>,
  source: string,
): { appliances: ApplianceConfig[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const appliances = planned.map((appliance): ApplianceConfig => {
    const check = (key: SecretKey, name: string): ResolvedReference => {
      const reference = references.get(name);
      if (!reference) throw new Error(`the ${key} reference of ${appliance.path} was not resolved`);
      const why = reference.value === undefined ? reference.missing : VALUE_CHECKS[key](reference.value);
      if (why) {
        const setting = `${appliance.path}.${key}Secret`;
        problems.push({ setting, problem: `${reference.label} ${why}`, source });
      }
      return reference;
    };
    const { secrets } = appliance;
    const username = check('username', secrets.username);
    const password = check('password', secrets.password);
    const caCert = secrets.caCert === undefined ? undefined : check('caCert', secrets.caCert);
    return {
      name: appliance.name,
      applianceUrl: appliance.applianceUrl,
      username: username.value?.trim() ?? '',
      password: password.value ?? '',
      ...(caCert?.value === undefined ? {} : { caCert: caCert.value }),
      ...appliance.settings,
      targets: appliance.targets,
      ...(appliance.exclude === undefined ? {} : { exclude: appliance.exclude }),
      provenance: {
        applianceUrl: { name: `${appliance.path}.url`, source },
        username: username.origin,
        password: password.origin,
        targets: { name: `${appliance.path}.targets`, source },
        ...(caCert === undefined ? {} : { caCert: caCert.origin }),
      },
    };
  });
  return { appliances, problems };
}

/**
 * The appliances of a policy. Its secret references are resolved only when the document and everything read
 * before it (`before`) are valid, so a half-valid configuration reads no secret.
 */
export async function appliancesFromPolicy(
  policy: PolicyText,
  { read, commandLine, vault, before }: PolicyContext,
): Promise<AppliancesResult> {
  const source = describeOrigin(policy.origin);
  const parsed = parsePolicy(policy.text);
  const planned = parsed.policy && planAppliances(parsed.policy);
  const problems: Problem[] = [
    ...(parsed.unreadable
      ? [{ setting: policy.origin.name, problem: parsed.unreadable, source: policy.origin.source }]
      : []),
    ...[...parsed.issues, ...(planned?.issues ?? [])].map((issue) => ({
      setting: issue.path,
      problem: issue.problem,
      source,
    })),
    ...settingsBesidePolicy(read, commandLine, policy.origin, referencedVariables(planned, vault)),
  ];
  if (problems.length > 0 || before.length > 0 || !planned) return { problems };

  const references = await resolveReferences(secretNames(planned.appliances), read, vault);
  const built = withSecrets(planned.appliances, references.byName, source);
  const all = [...references.problems, ...built.problems];
  return all.length > 0 ? { problems: all } : { appliances: built.appliances, problems: [] };
}

const secretNames = (appliances: readonly PlannedAppliance[]): string[] =>
  appliances.flatMap((appliance) => Object.values(appliance.secrets));

/** The environment variables the policy's references name (none with a vault: they name secrets there). */
function referencedVariables(
  planned: { appliances: PlannedAppliance[] } | undefined,
  vault: Vault | undefined,
) {
  return new Set(vault || !planned ? [] : secretNames(planned.appliances).map(environmentName));
}
