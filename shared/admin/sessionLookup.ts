import type { CleanupConfig } from '../config';
import type { LogEntry } from '../report';
import { createVeeamClient } from '../veeam/client';
import type { JobSession, VeeamClientOptions } from '../veeam/types';

export interface SessionLookup {
  sessionId: string;
  status: string;
  done: boolean;
  session: JobSession;
  log: LogEntry[];
}

const TERMINAL = new Set(['Success', 'Warning', 'Error', 'Canceled', 'NeverExecuted']);

/**
 * Reads one job session and its log straight from the appliance, which is the store of record:
 * nothing about runs is kept on the Functions side.
 */
export async function lookupSession(
  config: CleanupConfig,
  sessionId: string,
  tuning: Pick<VeeamClientOptions, 'retry' | 'requestTimeoutMs'> = {},
): Promise<SessionLookup> {
  const client = createVeeamClient({
    ...tuning,
    baseUrl: config.applianceUrl,
    username: config.username,
    password: config.password,
    caCert: config.caCert,
    apiVersion: config.apiVersion,
  });
  try {
    await client.connect();
    const session = await client.getSession(sessionId);
    const log = await client.getSessionLog(sessionId);
    return {
      sessionId,
      status: session.status,
      done: TERMINAL.has(session.status),
      session,
      log: log.slice(-20),
    };
  } finally {
    client.close();
  }
}
