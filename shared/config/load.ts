import { toConfigError } from './problems';
import { checkSettings, type RawSettings, type SettingField } from './schema';
import { readSetting, resolveSecrets, type ResolvedSecret } from './sources';
import type { CleanupConfig, LoadConfigOptions } from './types';

/** Non-secret settings: always from the environment (never Key Vault), trimmed. */
const PLAIN_SETTINGS = {
  apiVersion: 'VEEAM_API_VERSION',
  concurrency: 'CLEANUP_CONCURRENCY',
  maxSessionWait: 'CLEANUP_MAX_SESSION_WAIT',
  timeBudget: 'CLEANUP_TIME_BUDGET',
  dryRun: 'CLEANUP_DRY_RUN',
  batch: 'CLEANUP_BATCH',
} as const satisfies Partial<Record<SettingField, string>>;

/**
 * Reads and validates the whole configuration of a run before anything talks to the appliance. Throws one
 * ConfigError listing every problem found (its `setting` is the first one's); no message holds a value.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<CleanupConfig> {
  const env = options.env ?? process.env;
  const { secrets, problems, source } = await resolveSecrets(env, options);

  const raw: RawSettings = {};
  const labels = {} as Record<SettingField, string>;
  const missing: Partial<Record<SettingField, string | null>> = {};
  for (const [field, secret] of Object.entries(secrets) as Array<[SettingField, ResolvedSecret]>) {
    raw[field] = secret.value;
    labels[field] = secret.label;
    missing[field] = secret.missing;
  }
  for (const [field, setting] of Object.entries(PLAIN_SETTINGS) as Array<[SettingField, string]>) {
    raw[field] = readSetting(env, setting)?.trim() || undefined;
    labels[field] = setting;
  }

  const checked = checkSettings(raw, labels, missing);
  const all = [...problems, ...checked.problems];
  if (all.length > 0 || !checked.config) throw toConfigError(all);
  return { ...checked.config, source };
}
