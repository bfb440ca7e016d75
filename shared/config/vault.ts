import { ConfigError } from '../errors';
import { parseApplianceUrl } from '../veeam/url';
import { secretCache } from './cache';
import { createDefaultCredential, createSecretReader, VAULT_SETTING, type SecretReader } from './keyVault';
import { problemAt } from './problems';
import type { SettingReader } from './sources';
import type { LoadConfigOptions, Problem, SettingOrigin } from './types';

// Key Vault's own rule for secret names.
export const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;
export const INVALID_SECRET_NAME = 'is not a valid Key Vault secret name (1-127 letters, digits and hyphens)';

/** One secret read: its value (undefined when the vault has no such secret), or why it could not be read. */
export type VaultRead =
  | { value: string | undefined }
  /** null when KEY_VAULT_URL itself is invalid: that problem is reported once, by openVault. */
  | { problem: Problem | null };

/** The vault KEY_VAULT_URL names, shared by every secret a load reads (one client, one credential). */
export interface Vault {
  /** "Key Vault <vault origin>", the source of every secret read from it. */
  label: string;
  /** How a secret of this vault is named in errors and provenance: secret <name> (Key Vault …). */
  origin(secretName: string): SettingOrigin;
  /** Reads one secret through the per-process cache. Vault failures come back as problems, never thrown. */
  read(secretName: string): Promise<VaultRead>;
}

export interface OpenedVault {
  /** Absent when KEY_VAULT_URL is not set. */
  vault?: Vault;
  /** What is wrong with KEY_VAULT_URL itself. */
  problems: Problem[];
}

/**
 * The vault of a load, when KEY_VAULT_URL is set. Nothing is contacted here: the client (and the default
 * credential) is created on the first read.
 */
export function openVault(read: SettingReader, options: LoadConfigOptions): OpenedVault {
  const setting = read(VAULT_SETTING);
  if (setting === undefined) return { problems: [] };
  let url: URL | undefined;
  const problems: Problem[] = [];
  try {
    url = parseApplianceUrl(setting.value, VAULT_SETTING);
  } catch (error) {
    problems.push(asProblem(error, setting.origin));
  }
  const label = url ? `Key Vault ${url.origin}` : 'Key Vault';
  const clientId = read('AZURE_CLIENT_ID')?.value;
  let reader: SecretReader | undefined;
  const readerFor = (vaultUrl: URL): SecretReader => {
    reader ??= createSecretReader(
      vaultUrl,
      options.credential ?? createDefaultCredential(clientId),
      clientId,
    );
    return reader;
  };
  const vault: Vault = {
    label,
    origin: (secretName) => ({ name: `secret ${secretName}`, source: label }),
    read: async (secretName) => {
      if (!url) return { problem: null };
      const vaultUrl = url;
      try {
        const value = await secretCache.get(
          vaultUrl.href,
          secretName,
          () => readerFor(vaultUrl)(secretName),
          options.cacheTtlMs,
        );
        return { value };
      } catch (error) {
        return { problem: asProblem(error, setting.origin) };
      }
    },
  };
  return { vault, problems };
}

/** Vault failures name KEY_VAULT_URL (or the flag that gave it) and where it came from. */
function asProblem(error: unknown, vaultOrigin: SettingOrigin): Problem {
  if (!(error instanceof ConfigError)) throw error;
  return error.setting === VAULT_SETTING
    ? problemAt(vaultOrigin, error.problem)
    : { setting: error.setting, problem: error.problem };
}
