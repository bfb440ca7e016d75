import { describeOrigin as from } from './problems';
import type { Targets } from './targets';
import type { ApplianceConfig, CleanupConfig } from './types';

function targetCount(targets: Targets): string {
  const count = targets.ids.length + targets.invalid.length;
  const extras = [
    ...(targets.invalid.length > 0 ? [`${targets.invalid.length} invalid`] : []),
    ...(targets.duplicatesRemoved > 0 ? [`${targets.duplicatesRemoved} duplicate(s) merged`] : []),
  ];
  return `${count} target${count === 1 ? '' : 's'}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}`;
}

const targetsOf = (appliance: ApplianceConfig): string =>
  appliance.targets.kind === 'ids' ? targetCount(appliance.targets.targets) : 'targets: discovery';

/** The single-appliance line: every part's origin, since each may come from another place. */
function describeSingle(appliance: ApplianceConfig): string {
  const p = appliance.provenance;
  return [
    `appliance URL from ${from(p.applianceUrl)}`,
    `username from ${from(p.username)}`,
    `password from ${from(p.password)}`,
    `targets from ${from(p.targets)}`,
    p.caCert ? `CA certificate from ${from(p.caCert)}` : 'no CA certificate (system trust)',
    targetsOf(appliance),
  ].join(', ');
}

/** One appliance of a policy: URL and targets are in the policy, the secrets' origins are not. */
function describeFromPolicy(appliance: ApplianceConfig): string {
  const p = appliance.provenance;
  const parts = [
    appliance.applianceUrl,
    `password from ${from(p.password)}`,
    ...(p.caCert ? [`CA certificate from ${from(p.caCert)}`] : []),
    targetsOf(appliance),
  ];
  return `${appliance.name} (${parts.join(', ')})`;
}

/**
 * One line saying where each part of the configuration came from, never a secret value. Without a policy,
 * e.g. "appliance URL from VEEAM_URL (environment), username from …, password from secret veeam-password
 * (Key Vault https://…), targets from secret veeam-vm-ids (Key Vault https://…), no CA certificate (system
 * trust), 3 targets"; with one, "policy from CLEANUP_POLICY (environment), 2 appliances: weu
 * (https://veeam-weu.example.com, password from secret veeam-weu-password (Key Vault https://…), targets:
 * discovery), customer-b (…, 2 targets)". Every entry point starts its run with it, so an admin sees at once
 * which of several sources won.
 */
export function describeProvenance(config: Pick<CleanupConfig, 'appliances' | 'policy'>): string {
  const { appliances, policy } = config;
  if (!policy) return appliances.map(describeSingle).join('; ');
  const count = `${appliances.length} appliance${appliances.length === 1 ? '' : 's'}`;
  return `policy from ${from(policy)}, ${count}: ${appliances.map(describeFromPolicy).join(', ')}`;
}
