import { toConfigError } from './problems';
import { checkSettings, type RawSettings, type SettingField } from './schema';
import { createSettingReader, resolveSecrets, type ResolvedSecret } from './sources';
import type { CleanupConfig, LoadConfigOptions, SettingOrigin } from './types';

/** Non-secret settings: always from the environment or their flags (never Key Vault), trimmed. */
const PLAIN_SETTINGS = {
  apiVersion: 'VEEAM_API_VERSION',
  concurrency: 'CLEANUP_CONCURRENCY',
  maxRunningSessions: 'CLEANUP_MAX_RUNNING_SESSIONS',
  minAge: 'CLEANUP_MIN_AGE',
  keepLatest: 'CLEANUP_KEEP_LATEST',
  maxSessionWait: 'CLEANUP_MAX_SESSION_WAIT',
  timeBudget: 'CLEANUP_TIME_BUDGET',
  dryRun: 'CLEANUP_DRY_RUN',
  batch: 'CLEANUP_BATCH',
} as const satisfies Partial<Record<SettingField, string>>;

/**
 * Reads and validates the whole configuration of a run before anything talks to the appliance. Throws one
 * ConfigError listing every problem found, each named with where its value came from (its `setting` is the
 * first one's); no message holds a value.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<CleanupConfig> {
  const read = createSettingReader(options.env ?? process.env, options.commandLine);
  const { secrets, problems, source } = await resolveSecrets(read, options);

  const raw: RawSettings = {};
  const origins = {} as Record<SettingField, SettingOrigin>;
  const missing: Partial<Record<SettingField, string | null>> = {};
  for (const [field, secret] of Object.entries(secrets) as Array<[SettingField, ResolvedSecret]>) {
    raw[field] = secret.value;
    origins[field] = secret.origin;
    missing[field] = secret.missing;
  }
  for (const [field, setting] of Object.entries(PLAIN_SETTINGS) as Array<[SettingField, string]>) {
    const found = read(setting);
    raw[field] = found?.value.trim() || undefined;
    origins[field] = found?.origin ?? { name: setting, source: 'environment' };
  }

  const checked = checkSettings(raw, origins, missing);
  const all = [...problems, ...checked.problems];
  if (all.length > 0 || !checked.config) throw toConfigError(all);
  return {
    ...checked.config,
    source,
    provenance: {
      applianceUrl: origins.applianceUrl,
      username: origins.username,
      password: origins.password,
      targets: origins.vmIds,
      ...(checked.config.caCert === undefined ? {} : { caCert: origins.caCert }),
    },
  };
}
