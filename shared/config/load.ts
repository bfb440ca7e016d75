import { appliancesFromPolicy, type AppliancesResult } from './fromPolicy';
import { lookUpPolicy, type PolicyText } from './policySource';
import { toConfigError } from './problems';
import { checkRunSettings } from './schema';
import { readPlainSettings, singleAppliance } from './singleAppliance';
import { createSettingReader, resolveSecrets } from './sources';
import type { CleanupConfig, LoadConfigOptions } from './types';
import { openVault } from './vault';

/** Settings of the whole run, in both modes: always from the environment or their flags, trimmed. */
const RUN_SETTINGS = {
  maxSessionWait: 'CLEANUP_MAX_SESSION_WAIT',
  timeBudget: 'CLEANUP_TIME_BUDGET',
  dryRun: 'CLEANUP_DRY_RUN',
} as const;

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
  const context = { read, commandLine: options.commandLine, vault, before };

  let policy: PolicyText | undefined;
  let result: AppliancesResult;
  if ('given' in lookup) {
    policy = lookup.given;
    result = await appliancesFromPolicy(policy, context);
  } else {
    // With a vault, the policy secret is read alongside the single-appliance secrets: one round trip either way.
    const [stored, secrets] = await Promise.all([
      lookup.stored,
      lookup.required ? undefined : resolveSecrets(read, options, vault),
    ]);
    policy = stored.policy;
    if (policy) result = await appliancesFromPolicy(policy, context);
    else if (!secrets) result = { problems: stored.problems };
    else {
      const single = singleAppliance(read, secrets);
      result = { ...single, problems: [...stored.problems, ...single.problems] };
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
