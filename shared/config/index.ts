/**
 * Configuration of a cleanup run, validated as a whole (zod) before any call to the appliance.
 *
 * Secrets: from Key Vault when KEY_VAULT_URL is set (DefaultAzureCredential; the user-assigned managed identity
 * AZURE_CLIENT_ID names, if set), otherwise from their environment twins. An environment twin that is set also
 * wins over its Key Vault secret (a per-run override for an admin).
 *
 * | secret (name override)                | environment twin | content                        |
 * | veeam-url (VEEAM_URL_SECRET)          | VEEAM_URL        | appliance base URL (https)     |
 * | veeam-username (VEEAM_USERNAME_SECRET)| VEEAM_USERNAME   | user name                      |
 * | veeam-password (VEEAM_PASSWORD_SECRET)| VEEAM_PASSWORD   | password                       |
 * | veeam-vm-ids (VEEAM_VM_IDS_SECRET)    | VEEAM_VM_IDS     | ids: JSON array, or separated  |
 * |                                       |                  | by commas/whitespace/newlines  |
 * | veeam-ca-cert, optional               | VEEAM_CA_CERT    | PEM to trust for the appliance |
 * |   (VEEAM_CA_CERT_SECRET)              |                  |                                |
 *
 * Settings (environment or CLI flags only): VEEAM_API_VERSION v1 | v8.1 | auto (default auto);
 * CLEANUP_CONCURRENCY 1..256 (default 16); CLEANUP_MAX_RUNNING_SESSIONS 1..10000 (default: no cap);
 * CLEANUP_MAX_SESSION_WAIT (default PT30M) and CLEANUP_TIME_BUDGET (optional) as ISO-8601
 * durations (PT30M, PT1H30M, P1DT2H, PT0.5S) or plain seconds (1800); CLEANUP_DRY_RUN and CLEANUP_BATCH as
 * true/false/1/0/yes/no (default false). An empty setting counts as not set.
 */
export { loadConfig } from './load';
export { describeProvenance } from './provenance';
export { invalidateSecretCache } from './cache';
export { collectTargets, parseTargets, splitTargetEntries, type Targets } from './targets';
export { parseDuration } from './durations';
export type {
  ApplianceConfig,
  DiscoveryFilter,
  Exclusions,
  TargetSource,
  CleanupConfig,
  CommandLineSettings,
  ConfigProvenance,
  LoadConfigOptions,
  ApiVersionSetting,
  SettingOrigin,
} from './types';
export { ConfigError } from '../errors';
