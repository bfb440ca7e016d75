/**
 * Configuration of a cleanup run, validated as a whole (zod) before any call to an appliance: a list of
 * appliances (CleanupConfig.appliances) plus the run-wide settings.
 *
 * Cleanup policy (several appliances, discovery, exclusions; see docs/cleanup-policy.schema.json): from
 * `--policy <file>` (CLI), else the setting CLEANUP_POLICY (inline JSON), else with KEY_VAULT_URL set the
 * Key Vault secret cleanup-policy (name changeable with CLEANUP_POLICY_SECRET). Its `*Secret` fields name
 * Key Vault secrets when KEY_VAULT_URL is set, otherwise environment variables spelled the same way
 * upper-cased with "-" → "_" (veeam-weu-password → VEEAM_WEU_PASSWORD). With a policy, the single-appliance
 * settings below (and --vm/--vm-file) must not be set.
 *
 * Without a policy, the single-appliance settings make one appliance named `default`. Its secrets come from
 * Key Vault when KEY_VAULT_URL is set (DefaultAzureCredential; the user-assigned managed identity
 * AZURE_CLIENT_ID names, if set), otherwise from their environment twins. An environment twin that is set
 * also wins over its Key Vault secret (a per-run override for an admin).
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
 * Single-appliance settings (environment or CLI flags only): VEEAM_API_VERSION v1 | v8.1 | auto (default
 * auto); CLEANUP_CONCURRENCY 1..256 (default 16); CLEANUP_MAX_RUNNING_SESSIONS 1..10000 (default: no cap);
 * CLEANUP_MIN_AGE and CLEANUP_KEEP_LATEST (retention); CLEANUP_BATCH.
 *
 * Run-wide settings (both modes): CLEANUP_MAX_SESSION_WAIT (default PT30M) and CLEANUP_TIME_BUDGET
 * (optional) as ISO-8601 durations (PT30M, PT1H30M, P1DT2H, PT0.5S) or plain seconds (1800);
 * CLEANUP_DRY_RUN as true/false/1/0/yes/no (default false, like CLEANUP_BATCH). An empty setting counts as
 * not set.
 */
export { loadConfig } from './load';
export { describeProvenance } from './provenance';
export { invalidateSecretCache } from './cache';
export { collectTargets, parseTargets, splitTargetEntries, type Targets } from './targets';
export { parseDuration } from './durations';
export { compileGlob, globProblem } from './globs';
export {
  cleanupPolicyJsonSchema,
  type CleanupPolicy,
  type CleanupPolicyDocument,
  type PolicyAppliance,
} from './policy';
export { environmentName } from './secretRefs';
export { DEFAULT_APPLIANCE } from './singleAppliance';
export { POLICY_SECRET_SETTING, POLICY_SETTING } from './policySource';
export type {
  ApiVersionSetting,
  ApplianceConfig,
  CleanupConfig,
  CommandLineSettings,
  ConfigProvenance,
  DiscoveryFilter,
  Exclusions,
  LoadConfigOptions,
  SettingOrigin,
  TargetSource,
} from './types';
export { ConfigError } from '../errors';
