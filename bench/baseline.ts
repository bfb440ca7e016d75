/**
 * The baseline: what a typical runbook does. Log in once, then for each VM in turn POST the v1 delete and GET
 * its session every pollIntervalMs until it ends, then the next VM. No concurrency, no retries.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_USER } from '../dev/simulator';

export interface BaselineOptions {
  url: string;
  vmIds: readonly string[];
  /** Wait before each status check (default 5000 ms, the runbook's Start-Sleep 5). */
  pollIntervalMs?: number;
  /** Bound on one session's wait (default 10 min). */
  maxWaitMs?: number;
}

export interface BaselineResult {
  wallMs: number;
  /** vmId -> terminal status of its session. */
  statuses: Record<string, string>;
  requests: { auth: number; delete: number; poll: number };
}

const TERMINAL = new Set(['Success', 'Warning', 'Error', 'Canceled', 'NeverExecuted']);

export async function runSequentialBaseline(options: BaselineOptions): Promise<BaselineResult> {
  const pollIntervalMs = options.pollIntervalMs ?? 5_000;
  const maxWaitMs = options.maxWaitMs ?? 600_000;
  const requests = { auth: 0, delete: 0, poll: 0 };
  const started = performance.now();

  const call = async (path: string, init: RequestInit): Promise<any> => {
    const response = await fetch(`${options.url}${path}`, init);
    const text = await response.text();
    if (!response.ok)
      throw new Error(`${init.method ?? 'GET'} ${path.split('?')[0]} answered ${response.status}`);
    return text ? JSON.parse(text) : undefined;
  };

  requests.auth++;
  const token = await call('/api/oauth2/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'Password', ...DEFAULT_USER }).toString(),
  });
  const headers = { Authorization: `Bearer ${token.access_token}`, Accept: 'application/json' };

  const statuses: Record<string, string> = {};
  for (const vmId of options.vmIds) {
    requests.delete++;
    let session = await call(`/api/v1/virtualMachines/${encodeURIComponent(vmId)}/deleteSnapshots`, {
      method: 'POST',
      headers,
    });
    const waitUntil = performance.now() + maxWaitMs;
    while (!TERMINAL.has(session.status) && performance.now() < waitUntil) {
      await sleep(pollIntervalMs);
      requests.poll++;
      session = await call(`/api/v1/jobSessions/${encodeURIComponent(session.id)}`, { headers });
    }
    statuses[vmId] = session.status;
  }
  return { wallMs: performance.now() - started, statuses, requests };
}
