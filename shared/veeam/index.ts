/** The appliance client's public entry point. */
export { createVeeamClient, CLIENT_DEFAULTS } from './client';
export { createAdaptiveIntervalPolicy, POLL_DEFAULTS, type AdaptiveIntervalOptions } from './interval';
export { RETRY_DEFAULTS } from './retry';
export { DEFAULT_MAX_WAIT_MS } from './session';
export * from './errors';
export * from './types';
