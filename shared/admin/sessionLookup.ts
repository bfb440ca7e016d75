import { createHash } from 'node:crypto';
import { invalidateSecretCache, type ApplianceConfig, type CleanupConfig } from '../config';
import type { LogEntry } from '../report';
import { PROFILES } from '../veeam/api';
import { createVeeamClient } from '../veeam/client';
import { MfaRequiredError, VeeamApiError, VeeamAuthError } from '../veeam/errors';
import { isTerminalStatus } from '../veeam/sessionStatus';
import type { JobSession, VeeamClient } from '../veeam/types';

export interface SessionLookup {
  sessionId: string;
  status: string;
  done: boolean;
  session: JobSession;
  log: LogEntry[];
}

/**
 * One client (and so one token, refreshed by the client as in runs) per appliance and instance for the
 * configuration in use: status GETs come in bursts while a 202 is followed, and a login per GET would flood
 * the appliance's sign-in log.
 */
const cached = new Map<string, { key: string; client: VeeamClient }>();

/** A digest of the connection settings, so the cache keeps no second copy of the password. */
function connectionKey(appliance: ApplianceConfig): string {
  const { applianceUrl, username, password, caCert, apiVersion } = appliance;
  return createHash('sha256')
    .update(JSON.stringify([applianceUrl, username, password, caCert ?? null, apiVersion]))
    .digest('hex');
}

function clientFor(appliance: ApplianceConfig): VeeamClient {
  const key = connectionKey(appliance);
  const entry = cached.get(appliance.name);
  if (entry?.key === key) return entry.client;
  entry?.client.close();
  const client = createVeeamClient({
    baseUrl: appliance.applianceUrl,
    username: appliance.username,
    password: appliance.password,
    caCert: appliance.caCert,
    apiVersion: appliance.apiVersion,
  });
  cached.set(appliance.name, { key, client });
  return client;
}

/** Drops the cached clients and their keep-alive connections; the next lookup logs in again. */
export function closeSessionLookupClient(): void {
  for (const entry of cached.values()) entry.client.close();
  cached.clear();
}

/**
 * The appliance a lookup asks: the one named, or the only one. Undefined when the name is unknown, or when
 * none is named and there are several.
 */
export function applianceForLookup(
  config: CleanupConfig,
  name: string | null | undefined,
): ApplianceConfig | undefined {
  if (name) return config.appliances.find((a) => a.name === name);
  return config.appliances.length === 1 ? config.appliances[0] : undefined;
}

/** The appliance has no session with this id (a v8.1 appliance answers 400 for an id that is not a UUID). */
function isUnknownSession(error: unknown): boolean {
  return error instanceof VeeamApiError && (error.status === 404 || error.status === 400);
}

/**
 * Reads one snapshot-deletion session and its log straight from the appliance, which is the store of record:
 * nothing about runs is kept on the Functions side. Returns undefined for an unknown id and for every other
 * session type (backup, restore, …), so a function key cannot be used to read those logs.
 */
export async function lookupSession(
  appliance: ApplianceConfig,
  sessionId: string,
): Promise<SessionLookup | undefined> {
  const client = clientFor(appliance);
  try {
    const { apiVersion } = await client.connect();
    const session = await client.getSession(sessionId);
    if (!PROFILES[apiVersion].deleteSessionTypes.includes(session.type ?? '')) return undefined;
    const log = await client.getSessionLog(sessionId);
    return { sessionId, status: session.status, done: isTerminalStatus(session.status), session, log };
  } catch (error) {
    if (isUnknownSession(error)) return undefined;
    if (error instanceof VeeamAuthError || error instanceof MfaRequiredError) {
      // The password may have been rotated: start over with freshly read secrets.
      if (cached.get(appliance.name)?.client === client) {
        client.close();
        cached.delete(appliance.name);
      }
      invalidateSecretCache();
    }
    throw error;
  }
}
