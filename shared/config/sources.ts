import { ConfigError } from '../errors';
import { parseApplianceUrl } from '../veeam/url';
import { secretCache } from './cache';
import { createDefaultCredential, createSecretReader, VAULT_SETTING, type SecretReader } from './keyVault';
import type { LoadConfigOptions, Problem } from './types';

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

// Key Vault's own rule for secret names.
const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;

/** Where one secret value came from and how to talk about it. */
export interface ResolvedSecret {
  value?: string;
  /** The setting or secret to name in errors, e.g. VEEAM_PASSWORD or "secret veeam-password (Key Vault …)". */
  label: string;
  /** What to say if the value is absent; null when another problem (vault unreachable, bad name) explains it. */
  missing: string | null;
}

export interface ResolvedSecrets {
  secrets: Record<SecretField, ResolvedSecret>;
  problems: Problem[];
  source: 'keyVault' | 'environment';
}

/** An empty app setting counts as not set: Azure and CI tooling often create settings with empty values. */
export function readSetting(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function fromEnvironment(env: Record<string, string | undefined>): ResolvedSecrets {
  const entries = SECRET_SPECS.map((spec): [SecretField, ResolvedSecret] => [
    spec.field,
    {
      value: readSetting(env, spec.env),
      label: spec.env,
      missing: spec.required
        ? `is not set (set it, or set KEY_VAULT_URL to read the secret ${spec.secret} from Key Vault)`
        : null,
    },
  ]);
  return {
    secrets: Object.fromEntries(entries) as ResolvedSecrets['secrets'],
    problems: [],
    source: 'environment',
  };
}

/**
 * The five secret values of a run. With KEY_VAULT_URL set they come from Key Vault (names overridable by the
 * *_SECRET settings), read in parallel through the per-process cache; but an environment twin that is set
 * explicitly wins over its secret and that secret is not read, so an admin can override one value for a manual
 * run without touching the vault. Without KEY_VAULT_URL every value comes from its environment twin.
 * Vault failures are returned as problems (with the others of the load), never thrown.
 */
export async function resolveSecrets(
  env: Record<string, string | undefined>,
  options: LoadConfigOptions,
): Promise<ResolvedSecrets> {
  const vaultSetting = readSetting(env, VAULT_SETTING);
  if (vaultSetting === undefined) return fromEnvironment(env);

  const problems: Problem[] = [];
  let vaultUrl: URL | undefined;
  try {
    vaultUrl = parseApplianceUrl(vaultSetting, VAULT_SETTING);
  } catch (error) {
    problems.push(asProblem(error));
  }
  const vaultName = vaultUrl ? `Key Vault ${vaultUrl.origin}` : 'Key Vault';
  const clientId = readSetting(env, 'AZURE_CLIENT_ID');
  let reader: SecretReader | undefined;
  const readerFor = (url: URL): SecretReader => {
    reader ??= createSecretReader(url, options.credential ?? createDefaultCredential(clientId), clientId);
    return reader;
  };

  type Outcome = [SecretField, ResolvedSecret, Problem?];
  const outcomes = await Promise.all(
    SECRET_SPECS.map(async (spec): Promise<Outcome> => {
      const twin = readSetting(env, spec.env);
      if (twin !== undefined) return [spec.field, { value: twin, label: spec.env, missing: null }];
      const name = readSetting(env, spec.override)?.trim() ?? spec.secret;
      const label = `secret ${name} (${vaultName})`;
      if (!SECRET_NAME.test(name)) {
        const problem = 'is not a valid Key Vault secret name (1-127 letters, digits and hyphens)';
        return [spec.field, { label, missing: null }, { setting: spec.override, problem }];
      }
      if (!vaultUrl) return [spec.field, { label, missing: null }];
      const url = vaultUrl;
      try {
        const value = await secretCache.get(url.href, name, () => readerFor(url)(name), options.cacheTtlMs);
        return [spec.field, { value, label, missing: spec.required ? 'was not found in the vault' : null }];
      } catch (error) {
        return [spec.field, { label, missing: null }, asProblem(error)];
      }
    }),
  );
  // Problems in table order, so the error's first setting does not depend on which response came first.
  for (const [, , problem] of outcomes) if (problem) problems.push(problem);
  const resolved = outcomes.map(([field, secret]): [SecretField, ResolvedSecret] => [field, secret]);
  return {
    secrets: Object.fromEntries(resolved) as ResolvedSecrets['secrets'],
    problems,
    source: 'keyVault',
  };
}

function asProblem(error: unknown): Problem {
  if (error instanceof ConfigError) return { setting: error.setting, problem: error.problem };
  throw error;
}
