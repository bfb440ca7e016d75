import type { AppliancesResult } from './fromPolicy';
import { describeOrigin } from './problems';
import { checkSettings, type ApplianceField, type ApplianceSettings } from './schema';
import { SECRET_SETTINGS, type ResolvedSecret, type ResolvedSecrets, type SettingReader } from './sources';
import type { CommandLineSettings, Problem, SettingOrigin } from './types';

/** The name a configuration without a policy gives its one appliance. */
export const DEFAULT_APPLIANCE = 'default';

/** Non-secret settings of the one appliance: always from the environment or their flags, trimmed. */
const PLAIN_SETTINGS = {
  apiVersion: 'VEEAM_API_VERSION',
  concurrency: 'CLEANUP_CONCURRENCY',
  maxRunningSessions: 'CLEANUP_MAX_RUNNING_SESSIONS',
  minAge: 'CLEANUP_MIN_AGE',
  keepLatest: 'CLEANUP_KEEP_LATEST',
  batch: 'CLEANUP_BATCH',
} as const satisfies Partial<Record<ApplianceField, string>>;

/** The trimmed values of `settings` (field → setting name) and where each came from. */
export function readPlainSettings<F extends string>(
  read: SettingReader,
  settings: Record<F, string>,
): { raw: Partial<Record<F, string>>; origins: Record<F, SettingOrigin> } {
  const raw: Partial<Record<F, string>> = {};
  const origins = {} as Record<F, SettingOrigin>;
  for (const [field, setting] of Object.entries(settings) as Array<[F, string]>) {
    const found = read(setting);
    raw[field] = found?.value.trim() || undefined;
    origins[field] = found?.origin ?? { name: setting, source: 'environment' };
  }
  return { raw, origins };
}

/** The appliance `default` from today's single-appliance settings and secrets (vault problems first). */
export function singleAppliance(read: SettingReader, resolved: ResolvedSecrets): AppliancesResult {
  const raw: ApplianceSettings = {};
  const origins = {} as Record<ApplianceField, SettingOrigin>;
  const missing: Partial<Record<ApplianceField, string | null>> = {};
  for (const [field, secret] of Object.entries(resolved.secrets) as Array<[ApplianceField, ResolvedSecret]>) {
    raw[field] = secret.value;
    origins[field] = secret.origin;
    missing[field] = secret.missing;
  }
  const plain = readPlainSettings(read, PLAIN_SETTINGS);
  Object.assign(raw, plain.raw);
  Object.assign(origins, plain.origins);

  const checked = checkSettings(raw, origins, missing);
  if (!checked.settings) return { problems: [...resolved.problems, ...checked.problems] };
  if (resolved.problems.length > 0) return { problems: resolved.problems };
  return {
    appliances: [
      {
        name: DEFAULT_APPLIANCE,
        ...checked.settings,
        provenance: {
          applianceUrl: origins.applianceUrl,
          username: origins.username,
          password: origins.password,
          targets: origins.vmIds,
          ...(checked.settings.caCert === undefined ? {} : { caCert: origins.caCert }),
        },
      },
    ],
    problems: [],
  };
}

/**
 * Single-appliance settings set together with a policy, one problem each: the policy would silently win over
 * them otherwise, and an admin would believe a setting applies that does not. A variable the policy itself
 * names as a secret reference (`referenced`, e.g. VEEAM_PASSWORD for passwordSecret veeam-password) is used,
 * so it is no conflict.
 */
export function settingsBesidePolicy(
  read: SettingReader,
  commandLine: CommandLineSettings | undefined,
  policy: SettingOrigin,
  referenced: ReadonlySet<string>,
): Problem[] {
  const problem = `is set together with a cleanup policy (${describeOrigin(policy)}); move it into the policy`;
  const names = [...SECRET_SETTINGS, ...Object.values(PLAIN_SETTINGS)].filter(
    (name) => !referenced.has(name),
  );
  const origins = names.flatMap((name) => {
    const found = read(name);
    return found ? [found.origin] : [];
  });
  if (commandLine?.targets) origins.push(commandLine.targets.origin);
  return origins.map((origin) => ({ setting: origin.name, problem, source: origin.source }));
}
