import type { CleanupConfig, SettingOrigin } from './types';

const from = (origin: SettingOrigin): string => `${origin.name} (${origin.source})`;

/**
 * One line saying where each part of the configuration came from, never a value, e.g. "appliance URL from
 * VEEAM_URL (environment), username from …, password from secret veeam-password (Key Vault https://…),
 * targets from secret veeam-vm-ids (Key Vault https://…), no CA certificate (system trust), 3 targets".
 * Every entry point starts its run with it, so an admin sees at once which of several sources won.
 */
export function describeProvenance(config: Pick<CleanupConfig, 'provenance' | 'targets'>): string {
  const { provenance: p, targets } = config;
  const count = targets.ids.length + targets.invalid.length;
  const extras = [
    ...(targets.invalid.length > 0 ? [`${targets.invalid.length} invalid`] : []),
    ...(targets.duplicatesRemoved > 0 ? [`${targets.duplicatesRemoved} duplicate(s) merged`] : []),
  ];
  return [
    `appliance URL from ${from(p.applianceUrl)}`,
    `username from ${from(p.username)}`,
    `password from ${from(p.password)}`,
    `targets from ${from(p.targets)}`,
    p.caCert ? `CA certificate from ${from(p.caCert)}` : 'no CA certificate (system trust)',
    `${count} target${count === 1 ? '' : 's'}${extras.length > 0 ? ` (${extras.join(', ')})` : ''}`,
  ].join(', ');
}
