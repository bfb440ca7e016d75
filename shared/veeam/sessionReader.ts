/**
 * Reads session states for the pollers. Concurrent reads of one session share a request, and on v8.1 a
 * burst of reads due in the same tick is answered by one GET /jobSessions page of the still-running
 * sessions, so only the sessions that left that list cost a GET of their own. When more sessions run than
 * one page holds, the page answers only part of a burst for a large parse, so it is left out for a while.
 */
import type { ApiProfile } from './api';
import { ACTIVE_STATUSES, isActiveStatus } from './sessionStatus';
import type { JobSession } from './types';
import { jobSessionSchema, pageSchema, parseWire } from './wire';

export type GetJson = (path: string, route: string) => Promise<{ body: unknown; retryAfterMs?: number }>;

export interface SessionRead {
  session: JobSession;
  /** Retry-After of the answer, when the appliance sent one. */
  retryAfterMs?: number;
}

export interface SessionReader {
  read(sessionId: string, path: string, route: string, type?: string): Promise<SessionRead>;
}

const sessionPageSchema = pageSchema(jobSessionSchema);

interface Waiting {
  sessionId: string;
  path: string;
  route: string;
  type?: string;
  resolve(read: SessionRead): void;
  reject(error: unknown): void;
}

export function createSessionReader(options: {
  profile: ApiProfile;
  getJson: GetJson;
  /** Reads in one tick needed before the page query is used; 0 turns it off. */
  runningPageMinSessions: number;
  pageLimit?: number;
  /** After a page that could not list every running session, single GETs only for this long (default 2 s). */
  pagePauseMs?: number;
  now?: () => number;
}): SessionReader {
  const now = options.now ?? Date.now;
  let pagesPausedUntil = 0;
  const inFlight = new Map<string, Promise<SessionRead>>();
  let queue: Waiting[] = [];
  const pageLimit = options.pageLimit ?? 1000;
  const pageEnabled = options.profile.sessionsPath !== undefined && options.runningPageMinSessions > 0;

  function single(sessionId: string, path: string, route: string): Promise<SessionRead> {
    let pending = inFlight.get(sessionId);
    if (!pending) {
      pending = options
        .getJson(path, route)
        .then(({ body, retryAfterMs }) => ({
          session: parseWire(jobSessionSchema, body, route),
          retryAfterMs,
        }))
        .finally(() => inFlight.delete(sessionId));
      inFlight.set(sessionId, pending);
    }
    return pending;
  }

  async function runningPage(types: string[]): Promise<{ byId: Map<string, JobSession>; complete: boolean }> {
    const query = new URLSearchParams();
    for (const status of ACTIVE_STATUSES) query.append('Status', status);
    for (const type of types) query.append('Types', type);
    query.set('Limit', String(pageLimit));
    const { body } = await options.getJson(
      `${options.profile.sessionsPath}?${query}`,
      `${options.profile.sessionsPath}`,
    );
    const page = parseWire(sessionPageSchema, body, options.profile.sessionsPath!);
    const results = page.results;
    return {
      byId: new Map(results.map((s) => [String(s.id), s])),
      complete: page.totalCount === undefined || results.length >= page.totalCount,
    };
  }

  async function flush() {
    const batch = queue;
    queue = [];
    const distinct = new Set(batch.map((w) => w.sessionId));
    let page: { byId: Map<string, JobSession>; complete: boolean } | undefined;
    if (distinct.size >= options.runningPageMinSessions && now() >= pagesPausedUntil) {
      const types = [...new Set(batch.map((w) => w.type))];
      try {
        page = await runningPage(types.every((t): t is string => !!t) ? types : []);
        if (!page.complete) pagesPausedUntil = now() + (options.pagePauseMs ?? 2_000);
      } catch {
        page = undefined; // the single GETs below still answer every read
      }
    }
    for (const waiting of batch) {
      const running = page?.byId.get(waiting.sessionId);
      if (running && isActiveStatus(running.status)) {
        waiting.resolve({ session: running });
        continue;
      }
      single(waiting.sessionId, waiting.path, waiting.route).then(waiting.resolve, waiting.reject);
    }
  }

  return {
    read(sessionId, path, route, type) {
      if (!pageEnabled) return single(sessionId, path, route);
      const joined = inFlight.get(sessionId);
      if (joined) return joined;
      return new Promise<SessionRead>((resolve, reject) => {
        if (queue.length === 0) setImmediate(() => void flush());
        queue.push({ sessionId, path, route, type, resolve, reject });
      });
    },
  };
}
