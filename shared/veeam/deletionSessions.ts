/**
 * The one listing of deletion sessions per run (v8.1): every snapshot-deletion session that is still
 * running, or that started since the run's look-back point. The delete guard never adopts one of them
 * (they existed before this run submitted anything), and a target whose deletion is still running is
 * followed instead of sent again. Logs are read only for the running sessions, to learn their VMs.
 */
import type { ApiProfile } from './api';
import { fromUtc } from './deleteGuard';
import type { GuardedSend } from './retry';
import { parseSessionLog } from './sessionLog';
import { ACTIVE_STATUSES, isActiveStatus } from './sessionStatus';
import type { DeletionSessionListing, JobSession } from './types';
import { jobSessionSchema, pageSchema, parseWire } from './wire';

const sessionPageSchema = pageSchema(jobSessionSchema);
const PAGE_LIMIT = 1000;

export async function listDeletionSessions(
  profile: ApiProfile,
  send: GuardedSend,
  options: { sinceMs: number; abortSignal?: AbortSignal },
): Promise<DeletionSessionListing | undefined> {
  if (!profile.sessionsPath) return undefined;
  const running = await listAll(profile, send, { Status: ACTIVE_STATUSES }, options.abortSignal);
  const recent = await listAll(profile, send, { FromUtc: [fromUtc(options.sinceMs)] }, options.abortSignal);
  const knownIds = new Set([...running, ...recent].map((s) => s.id));
  const byVm = new Map<string, JobSession>();
  for (const session of running.filter((s) => isActiveStatus(s.status))) {
    const { body } = await send(
      {
        method: 'GET',
        path: profile.sessionLogPath(session.id),
        route: profile.sessionLogRoute,
        kind: 'list',
        abortSignal: options.abortSignal,
      },
      {},
    );
    for (const item of parseSessionLog(body, profile.sessionLogRoute)) {
      if (item.resourceHashId && !byVm.has(item.resourceHashId)) byVm.set(item.resourceHashId, session);
    }
  }
  return { knownIds, runningFor: (vmId) => byVm.get(vmId) };
}

async function listAll(
  profile: ApiProfile,
  send: GuardedSend,
  filter: Record<string, readonly string[]>,
  abortSignal?: AbortSignal,
): Promise<JobSession[]> {
  const found: JobSession[] = [];
  for (let offset = 0; ;) {
    const query = new URLSearchParams();
    for (const type of profile.deleteSessionTypes) query.append('Types', type);
    for (const [name, values] of Object.entries(filter)) for (const v of values) query.append(name, v);
    query.set('Offset', String(offset));
    query.set('Limit', String(PAGE_LIMIT));
    const { body } = await send(
      {
        method: 'GET',
        path: `${profile.sessionsPath}?${query}`,
        route: profile.sessionsPath!,
        kind: 'list',
        abortSignal,
      },
      {},
    );
    const page = parseWire(sessionPageSchema, body, profile.sessionsPath!);
    found.push(...page.results);
    offset += page.results.length;
    if (page.results.length === 0 || offset >= (page.totalCount ?? 0)) return found;
  }
}
