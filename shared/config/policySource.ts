import { problemAt } from './problems';
import type { SettingReader } from './sources';
import type { CommandLineSettings, Problem, SettingOrigin } from './types';
import { INVALID_SECRET_NAME, SECRET_NAME, type Vault } from './vault';

export const POLICY_SETTING = 'CLEANUP_POLICY';
export const POLICY_SECRET_SETTING = 'CLEANUP_POLICY_SECRET';
const DEFAULT_POLICY_SECRET = 'cleanup-policy';

/** A policy document's text and where it came from. */
export interface PolicyText {
  text: string;
  origin: SettingOrigin;
}

/** What the vault holds: the policy, or none (single-appliance mode), with any problem found on the way. */
export interface StoredPolicy {
  policy?: PolicyText;
  problems: Problem[];
}

export type PolicyLookup =
  /** Given on the command line (--policy) or in CLEANUP_POLICY: known without reading anything. */
  | { given: PolicyText }
  /**
   * Perhaps in the vault (resolved without a policy when there is no vault). `required` when
   * CLEANUP_POLICY_SECRET is set: the admin asked for a policy, so there is no single-appliance fallback.
   */
  | { stored: Promise<StoredPolicy>; required: boolean };

/**
 * Where the cleanup policy comes from: --policy wins, then CLEANUP_POLICY (inline JSON; set in the
 * environment it also wins over the vault), then the Key Vault secret cleanup-policy (renamed by
 * CLEANUP_POLICY_SECRET). A vault without the default secret means single-appliance mode; a secret that
 * CLEANUP_POLICY_SECRET names explicitly must exist.
 */
export function lookUpPolicy(
  read: SettingReader,
  commandLine: CommandLineSettings | undefined,
  vault: Vault | undefined,
): PolicyLookup {
  if (commandLine?.policy) return { given: commandLine.policy };
  const inline = read(POLICY_SETTING);
  if (inline) return { given: { text: inline.value, origin: inline.origin } };
  const rename = read(POLICY_SECRET_SETTING);
  const required = rename !== undefined;
  const refused = (problems: Problem[]) => ({ stored: Promise.resolve({ problems }), required });
  if (!vault) {
    const problem = 'is set, but KEY_VAULT_URL is not (the policy secret is read from Key Vault)';
    return refused(rename ? [problemAt(rename.origin, problem)] : []);
  }
  const name = rename?.value.trim() ?? DEFAULT_POLICY_SECRET;
  if (rename && !SECRET_NAME.test(name)) return refused([problemAt(rename.origin, INVALID_SECRET_NAME)]);
  return { stored: readStoredPolicy(vault, name, rename?.origin), required };
}

async function readStoredPolicy(
  vault: Vault,
  name: string,
  renamedBy: SettingOrigin | undefined,
): Promise<StoredPolicy> {
  const found = await vault.read(name);
  if ('problem' in found) return { problems: found.problem ? [found.problem] : [] };
  const origin = vault.origin(name);
  if (found.value !== undefined) return { policy: { text: found.value, origin }, problems: [] };
  if (!renamedBy) return { problems: [] };
  return { problems: [problemAt(origin, `was not found in the vault (${renamedBy.name} names it)`)] };
}
