import { ConfigError } from '../errors';
import { createAppInsightsTelemetry, type EntraAuthentication } from './appInsights';
import type { Telemetry } from './telemetry';

export const CONNECTION_STRING_SETTING = 'APPLICATIONINSIGHTS_CONNECTION_STRING';
export const AUTHENTICATION_STRING_SETTING = 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EXPECTED = 'must be "Authorization=AAD" or "Authorization=AAD;ClientId=<client id of the identity>"';

/**
 * Chooses App Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set, else the given fallback. With
 * APPLICATIONINSIGHTS_AUTHENTICATION_STRING the exporter authenticates with the managed identity, which an
 * App Insights resource with local auth disabled requires.
 */
export function createTelemetryFromEnv(
  env: Record<string, string | undefined>,
  fallback: () => Telemetry,
): Telemetry {
  const connectionString = env[CONNECTION_STRING_SETTING]?.trim();
  if (!connectionString) return fallback();
  const authentication = env[AUTHENTICATION_STRING_SETTING]?.trim();
  return createAppInsightsTelemetry({
    connectionString,
    entraAuthentication: authentication ? parseAuthenticationString(authentication) : undefined,
  });
}

/**
 * The Functions host's format: `Authorization=AAD` (system-assigned identity) plus `ClientId=<GUID>` for a
 * user-assigned one, pairs in any order, keys case-insensitive. Errors name the setting, never the value.
 */
export function parseAuthenticationString(raw: string): EntraAuthentication {
  const fields = new Map<string, string>();
  for (const pair of raw
    .split(';')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, Math.max(eq, 0)).trim().toLowerCase();
    if (eq <= 0 || !['authorization', 'clientid'].includes(key) || fields.has(key)) {
      throw new ConfigError(AUTHENTICATION_STRING_SETTING, EXPECTED);
    }
    fields.set(key, pair.slice(eq + 1).trim());
  }
  if (fields.get('authorization')?.toUpperCase() !== 'AAD') {
    throw new ConfigError(AUTHENTICATION_STRING_SETTING, EXPECTED);
  }
  const clientId = fields.get('clientid');
  if (clientId !== undefined && !GUID.test(clientId)) {
    throw new ConfigError(AUTHENTICATION_STRING_SETTING, 'has a ClientId that is not a GUID');
  }
  return { clientId };
}
