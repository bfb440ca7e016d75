/**
 * Reads session states for the pollers. Concurrent reads of one session share a request, and on v8.1 a
 * burst of reads due in the same tick is answered by GET /jobSessions pages of the still-running sessions,
 * so only the sessions that left that list cost a GET of their own. When more sessions run than one page
 * holds, the next page is read only while enough of the burst is still unanswered to be worth a request.
 * Long waits are aligned to page slots (`align`), so the polls of thousands of sessions fall due together
 * in a few bursts instead of one at a time.
 */
import { z } from 'zod';
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
  /**
   * The delay to wait instead of `delayMs`: a long wait is stretched to end on a page slot, a
   * short one (a session near its end, a scout) is left alone. Identity when pages are off (v1).
   */
  align(delayMs: number): number;
}

/**
 * A page answers "still running" and nothing else: only id, type and status are parsed, so a page of
 * 1,000 sessions is not copied whole. The single GET that sees a session end parses all of it.
 */
const runningSessionSchema: z.ZodType<JobSession> = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  type: z
    .string()
    .nullish()
    .transform((type) => type ?? undefined),
  status: z.string().min(1),
});
const sessionPageSchema = pageSchema(runningSessionSchema);

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
  /**
   * Sessions per page (default 1000). Pages of 200 (text under V8's large-object size) were tried: +0.26
   * requests/VM at 3,000 VMs and no lower peak RSS (bench/ANALYSIS.md).
   */
  pageLimit?: number;
  /** Waits of at least 4 slots end on a multiple of this (default 500 ms); 0 turns alignment off. */
  slotMs?: number;
  now?: () => number;
}): SessionReader {
  const now = options.now ?? Date.now;
  const slotMs = options.slotMs ?? 500;
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

  async function runningPage(types: readonly string[], offset: number) {
    const query = new URLSearchParams();
    for (const status of ACTIVE_STATUSES) query.append('Status', status);
    for (const type of types) query.append('Types', type);
    query.set('Offset', String(offset));
    query.set('Limit', String(pageLimit));
    const { body } = await options.getJson(
      `${options.profile.sessionsPath}?${query}`,
      `${options.profile.sessionsPath}`,
    );
    const page = parseWire(sessionPageSchema, body, options.profile.sessionsPath!);
    const next = offset + page.results.length;
    return { results: page.results, next, last: page.results.length === 0 || next >= (page.totalCount ?? 0) };
  }

  /**
   * The running sessions among `wanted`, page by page while at least runningPageMinSessions of them are
   * still unanswered. Sessions that end between two pages shift the offsets; one skipped that way is read
   * by its own GET, like any session not found on a page.
   */
  async function runningAmong(wanted: ReadonlySet<string>, types: readonly string[]) {
    const found = new Map<string, JobSession>();
    for (let offset = 0; wanted.size - found.size >= options.runningPageMinSessions;) {
      const page = await runningPage(types, offset);
      for (const session of page.results) {
        const id = String(session.id);
        if (wanted.has(id) && isActiveStatus(session.status)) found.set(id, session);
      }
      if (page.last) break;
      offset = page.next;
    }
    return found;
  }

  async function flush() {
    const batch = queue;
    queue = [];
    const distinct = new Set(batch.map((w) => w.sessionId));
    let running: Map<string, JobSession> | undefined;
    if (distinct.size >= options.runningPageMinSessions) {
      const types = [...new Set(batch.map((w) => w.type))];
      try {
        running = await runningAmong(distinct, types.every((t): t is string => !!t) ? types : []);
      } catch {
        running = undefined; // the single GETs below still answer every read
      }
    }
    for (const waiting of batch) {
      const session = running?.get(waiting.sessionId);
      if (session) {
        waiting.resolve({ session });
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
    align(delayMs) {
      if (!pageEnabled || slotMs <= 0 || delayMs < 4 * slotMs) return delayMs;
      const at = now();
      return Math.ceil((at + delayMs) / slotMs) * slotMs - at;
    },
  };
}
