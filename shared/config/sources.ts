import { problemAt } from './problems';
import type { CommandLineSettings, LoadConfigOptions, Problem, SettingOrigin } from './types';
import { INVALID_SECRET_NAME, SECRET_NAME, type Vault } from './vault';

export type SecretField = 'applianceUrl' | 'username' | 'password' | 'vmIds' | 'caCert';

interface SecretSpec {
  field: SecretField;
  /** Default Key Vault secret name. */
  secret: string;
  /** Setting that renames the secret. */
  override: string;
  /** Environment twin: the value itself, for local runs, CI and the CLI (and a per-run override of the vault). */
  env: string;
  required: boolean;
}

const SECRET_SPECS: readonly SecretSpec[] = [
  {
    field: 'applianceUrl',
    secret: 'veeam-url',
    override: 'VEEAM_URL_SECRET',
    env: 'VEEAM_URL',
    required: true,
  },
  {
    field: 'username',
    secret: 'veeam-username',
    override: 'VEEAM_USERNAME_SECRET',
    env: 'VEEAM_USERNAME',
    required: true,
  },
  {
    field: 'password',
    secret: 'veeam-password',
    override: 'VEEAM_PASSWORD_SECRET',
    env: 'VEEAM_PASSWORD',
    required: true,
  },
  {
    field: 'vmIds',
    secret: 'veeam-vm-ids',
    override: 'VEEAM_VM_IDS_SECRET',
    env: 'VEEAM_VM_IDS',
    required: true,
  },
  {
    field: 'caCert',
    secret: 'veeam-ca-cert',
    override: 'VEEAM_CA_CERT_SECRET',
    env: 'VEEAM_CA_CERT',
    required: false,
  },
];

const ENVIRONMENT = 'environment';
const COMMAND_LINE = 'command line';

/** Where one secret value came from and what to say when it is absent. */
export interface ResolvedSecret {
  value?: string;
  /** Named in errors and in the provenance line, e.g. VEEAM_PASSWORD (environment). */
  origin: SettingOrigin;
  /** What to say if the value is absent; null when another problem (vault unreachable, bad name) explains it. */
  missing: string | null;
}

export interface ResolvedSecrets {
  secrets: Record<SecretField, ResolvedSecret>;
  problems: Problem[];
}

/** One setting's value and where it came from; undefined when it is not set. */
export type SettingReader = (name: string) => { value: string; origin: SettingOrigin } | undefined;

/** An empty app setting counts as not set: Azure and CI tooling often create settings with empty values. */
export function readSetting(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Reads a setting from its command-line flag when one was given, else from the environment. */
export function createSettingReader(
  env: Record<string, string | undefined>,
  commandLine: CommandLineSettings | undefined,
): SettingReader {
  return (name) => {
    const flag = commandLine?.settings?.[name];
    if (flag) return { value: flag.value, origin: { name: flag.flag, source: COMMAND_LINE } };
    const value = readSetting(env, name);
    return value === undefined ? undefined : { value, origin: { name, source: ENVIRONMENT } };
  };
}

/** The explicit targets of a CLI run, which replace VEEAM_VM_IDS and the veeam-vm-ids secret. */
function explicitTargets(options: LoadConfigOptions): ResolvedSecret | undefined {
  const targets = options.commandLine?.targets;
  return targets && { value: JSON.stringify(targets.entries), origin: targets.origin, missing: null };
}

function fromEnvironment(read: SettingReader, options: LoadConfigOptions): ResolvedSecrets {
  const entries = SECRET_SPECS.map((spec): [SecretField, ResolvedSecret] => {
    const explicit = spec.field === 'vmIds' ? explicitTargets(options) : undefined;
    if (explicit) return [spec.field, explicit];
    const found = read(spec.env);
    return [
      spec.field,
      {
        value: found?.value,
        origin: found?.origin ?? { name: spec.env, source: ENVIRONMENT },
        missing: spec.required
          ? `is not set (set it, or set KEY_VAULT_URL to read the secret ${spec.secret} from Key Vault)`
          : null,
      },
    ];
  });
  return {
    secrets: Object.fromEntries(entries) as ResolvedSecrets['secrets'],
    problems: [],
  };
}

/**
 * The five single-appliance secret values of a run. With a vault they come from Key Vault (names overridable
 * by the *_SECRET settings), read in parallel through the per-process cache; but an environment twin (or its
 * flag) that is set explicitly wins over its secret and that secret is not read, so an admin can override one
 * value for a manual run without touching the vault. Explicit CLI targets replace the targets secret the same
 * way. Without a vault every value comes from its environment twin. Vault failures are returned as problems
 * (with the others of the load), never thrown.
 */
export async function resolveSecrets(
  read: SettingReader,
  options: LoadConfigOptions,
  vault: Vault | undefined,
): Promise<ResolvedSecrets> {
  if (vault === undefined) return fromEnvironment(read, options);

  type Outcome = [SecretField, ResolvedSecret, Problem?];
  const outcomes = await Promise.all(
    SECRET_SPECS.map(async (spec): Promise<Outcome> => {
      const explicit = spec.field === 'vmIds' ? explicitTargets(options) : undefined;
      if (explicit) return [spec.field, explicit];
      const twin = read(spec.env);
      if (twin !== undefined) return [spec.field, { ...twin, missing: null }];
      const override = read(spec.override);
      const name = override?.value.trim() ?? spec.secret;
      const origin = vault.origin(name);
      if (!SECRET_NAME.test(name)) {
        return [
          spec.field,
          { origin, missing: null },
          problemAt(override?.origin ?? origin, INVALID_SECRET_NAME),
        ];
      }
      const found = await vault.read(name);
      if ('problem' in found) return [spec.field, { origin, missing: null }, found.problem ?? undefined];
      return [
        spec.field,
        { value: found.value, origin, missing: spec.required ? 'was not found in the vault' : null },
      ];
    }),
  );
  // Problems in table order, so the error's first setting does not depend on which response came first.
  const problems = outcomes.flatMap(([, , problem]) => (problem ? [problem] : []));
  const resolved = outcomes.map(([field, secret]): [SecretField, ResolvedSecret] => [field, secret]);
  return {
    secrets: Object.fromEntries(resolved) as ResolvedSecrets['secrets'],
    problems,
  };
}

/** Every setting that names or holds a single-appliance secret (twins and *_SECRET renames). */
export const SECRET_SETTINGS: readonly string[] = SECRET_SPECS.flatMap((spec) => [spec.env, spec.override]);
