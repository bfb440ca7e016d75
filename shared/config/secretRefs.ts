import { describeOrigin } from './problems';
import type { SettingReader } from './sources';
import type { Problem, SettingOrigin } from './types';
import type { Vault } from './vault';

/** A secret a policy names, resolved: its value, where it came from, or why it is absent. */
export interface ResolvedReference {
  value?: string;
  origin: SettingOrigin;
  /** How problems name it: "secret veeam-weu-password (Key Vault https://…)" or "environment variable X". */
  label: string;
  /** What to say when the value is absent; null when another problem (the vault failed) explains it. */
  missing: string | null;
}

export interface ResolvedReferences {
  /** By secret name; every name asked for has an entry. */
  byName: Map<string, ResolvedReference>;
  /** Vault failures (reported once, against KEY_VAULT_URL). */
  problems: Problem[];
}

/** veeam-weu-password → VEEAM_WEU_PASSWORD: the convention the single-appliance settings follow. */
export const environmentName = (secretName: string): string => secretName.toUpperCase().replace(/-/g, '_');

/**
 * Resolves the secret names of a policy, all in parallel and each name once: from the vault when there is
 * one (through the per-process cache), otherwise from the environment variable spelled the same way.
 */
export async function resolveReferences(
  names: Iterable<string>,
  read: SettingReader,
  vault: Vault | undefined,
): Promise<ResolvedReferences> {
  const unique = [...new Set(names)];
  const resolved = await Promise.all(
    unique.map(async (name): Promise<[ResolvedReference, Problem?]> => {
      if (!vault) {
        const variable = environmentName(name);
        const origin = { name: variable, source: 'environment' };
        const label = `environment variable ${variable}`;
        return [{ value: read(variable)?.value, origin, label, missing: 'is not set' }];
      }
      const origin = vault.origin(name);
      const label = describeOrigin(origin);
      const found = await vault.read(name);
      if ('problem' in found) return [{ origin, label, missing: null }, found.problem ?? undefined];
      return [{ value: found.value, origin, label, missing: 'was not found in the vault' }];
    }),
  );
  return {
    byName: new Map(unique.map((name, index) => [name, resolved[index][0]])),
    // In reference order, so the error does not depend on which response came first.
    problems: resolved.flatMap(([, problem]) => (problem ? [problem] : [])),
  };
}
