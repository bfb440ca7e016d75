import { planAppliances, withSecrets, type PlannedAppliance } from './fromPolicy';
import { parsePolicy } from './policy';
import { lookUpPolicy, type PolicyText } from './policySource';
import { describeOrigin, toConfigError } from './problems';
import { checkRunSettings } from './schema';
import { environmentName, resolveReferences } from './secretRefs';
import { readPlainSettings, settingsBesidePolicy, singleAppliance } from './singleAppliance';
import { createSettingReader, resolveSecrets, type SettingReader } from './sources';
import type { ApplianceConfig, CleanupConfig, LoadConfigOptions, Problem } from './types';
import { openVault, type Vault } from './vault';

/** Settings of the whole run, in both modes: always from the environment or their flags, trimmed. */
const RUN_SETTINGS = {
  maxSessionWait: 'CLEANUP_MAX_SESSION_WAIT',
  timeBudget: 'CLEANUP_TIME_BUDGET',
  dryRun: 'CLEANUP_DRY_RUN',
} as const;

interface Appliances {
  appliances?: ApplianceConfig[];
  problems: Problem[];
}

/**
 * Reads and validates the whole configuration of a run before anything talks to an appliance: the cleanup
 * policy when there is one (see lookUpPolicy), otherwise the single-appliance settings as the appliance
 * `default`. Throws one ConfigError listing every problem found, each named with where its value came from
 * (its `setting` is the first one's); no message holds a value.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<CleanupConfig> {
  const read = createSettingReader(options.env ?? process.env, options.commandLine);
  const plain = readPlainSettings(read, RUN_SETTINGS);
  const run = checkRunSettings(plain.raw, plain.origins);
  const { vault, problems: vaultProblems } = openVault(read, options);
  const before = [...vaultProblems, ...run.problems];
  const lookup = lookUpPolicy(read, options.commandLine, vault);

  let policy: PolicyText | undefined;
  let result: Appliances;
  if ('given' in lookup) {
    policy = lookup.given;
    result = await fromPolicy(policy, read, options, vault, before);
  } else {
    // With a vault, the policy secret is read alongside the single-appliance secrets: one round trip either way.
    const [stored, secrets] = await Promise.all([
      lookup.stored,
      lookup.required ? undefined : resolveSecrets(read, options, vault),
    ]);
    policy = stored.policy;
    if (policy) result = await fromPolicy(policy, read, options, vault, before);
    else if (!secrets) result = { problems: stored.problems };
    else {
      const { appliance, problems } = singleAppliance(read, secrets.secrets);
      result = {
        ...(appliance ? { appliances: [appliance] } : {}),
        problems: [...stored.problems, ...secrets.problems, ...problems],
      };
    }
  }

  const problems = [...vaultProblems, ...result.problems, ...run.problems];
  if (problems.length > 0 || !result.appliances || !run.settings) throw toConfigError(problems);
  return {
    appliances: result.appliances,
    ...run.settings,
    source: vault ? 'keyVault' : 'environment',
    ...(policy ? { policy: policy.origin } : {}),
  };
}

/**
 * The appliances of a policy. Its secret references are resolved only when the document and everything read
 * before it (`before`) are valid, so a half-valid configuration reads no secret.
 */
async function fromPolicy(
  policy: PolicyText,
  read: SettingReader,
  options: LoadConfigOptions,
  vault: Vault | undefined,
  before: readonly Problem[],
): Promise<Appliances> {
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
    ...settingsBesidePolicy(read, options.commandLine, policy.origin, referencedVariables(planned, vault)),
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
