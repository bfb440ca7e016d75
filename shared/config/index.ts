/**
 * Configuration of a cleanup run: settings from the environment, secrets from Key Vault (KEY_VAULT_URL) or
 * their environment twins, validated as a whole before any call to the appliance.
 */
export { loadConfig } from './load';
export { invalidateSecretCache } from './cache';
export { parseTargets, type Targets } from './targets';
export { parseDuration } from './durations';
export type { CleanupConfig, LoadConfigOptions, ApiVersionSetting } from './types';
export { ConfigError } from '../errors';
