/**
 * The Veeam adapter of the generic poller: which link to poll (same origin only), the terminal-status
 * switch, the per-VM view of a batch session, and the last 20 log entries on Warning, Error or TimedOut.
 */
import { z } from 'zod';
import { PROFILES, routeOf, type ApiProfile } from './api';
import { parseTimeSpanMs } from './interval';
import { Poller, type PollerAdapter } from './poller';
import { isTransientError } from './retry';
import type { Scheduler } from './scheduler';
import { itemsForVm, lastEntries, vmStatus, type LogItem } from './sessionLog';
import type { SessionReader } from './sessionReader';
import { isTerminalStatus } from './sessionStatus';
import type {
  JobSession,
  PollIntervalPolicy,
  SessionPollerLike,
  SessionPollerOptions,
  SessionProgress,
  SessionResult,
  TerminalSessionStatus,
} from './types';

export const DEFAULT_MAX_WAIT_MS = 30 * 60_000;
/**
 * Polls in a row that may fail (each after the transport's own retries) before the poller gives up on a
 * session. A blip on the appliance must not turn a running deletion into a failure, but an appliance
 * that stays down must not hold the run until the maximum wait either.
 */
export const MAX_CONSECUTIVE_POLL_FAILURES = 5;

const stateSchema = z.object({
  v: z.literal(1),
  apiVersion: z.enum(['v1', 'v8.1']),
  sessionId: z.string().min(1),
  type: z.string().optional(),
  /** Path (relative to the appliance base URL) polled for this session. */
  pollPath: z.string().startsWith('/'),
  vmId: z.string().optional(),
  startedAt: z.number(),
  deadline: z.number(),
  polls: z.number().int().min(0),
  failedPolls: z.number().int().min(0).default(0),
  /** Age (ms since startedAt) at the last poll. */
  lastPollElapsedMs: z.number().optional(),
  lastStatus: z.string(),
});

type PollState = z.infer<typeof stateSchema> & { session?: JobSession };

export interface SessionAdapterDeps {
  origin: string;
  /** Path prefix of the configured base URL ('' for most appliances). */
  basePath: string;
  scheduler: Scheduler;
  reader: SessionReader;
  policy: PollIntervalPolicy;
  getLog(profile: ApiProfile, sessionId: string, abortSignal?: AbortSignal): Promise<LogItem[]>;
  onWarning(message: string): void;
  now(): number;
}

/**
 * The path to poll: the session's self link when it is on the configured origin, else the documented
 * /api/<v>/jobSessions/{id} (and a warning, because the token must never go to that other origin).
 */
export function sessionPollPath(
  session: JobSession,
  profile: ApiProfile,
  deps: Pick<SessionAdapterDeps, 'origin' | 'basePath' | 'onWarning'>,
): string {
  const fallback = profile.sessionPath(String(session.id));
  const href = session._links?.self?.href;
  if (!href) return fallback;
  let url: URL;
  try {
    url = new URL(href, deps.origin);
  } catch {
    deps.onWarning(`Session ${session.id}: its self link is not a URL; polling ${fallback} instead`);
    return fallback;
  }
  if (url.origin !== deps.origin) {
    deps.onWarning(
      `Session ${session.id}: its self link points at another origin (${url.origin}), not the appliance ` +
        `(${deps.origin}); the token is not sent there, polling ${fallback} on the appliance instead`,
    );
    return fallback;
  }
  if (!url.pathname.startsWith(`${deps.basePath}/`)) return fallback;
  return url.pathname.slice(deps.basePath.length) + url.search;
}

/** The Veeam adapter, built once per client and API version and shared by all its pollers. */
export interface SessionAdapter {
  deps: SessionAdapterDeps;
  poller: PollerAdapter<PollState, SessionResult, SessionProgress>;
}

export function createSessionPoller(
  adapter: SessionAdapter,
  profile: ApiProfile,
  session: JobSession,
  options: SessionPollerOptions = {},
): SessionPollerLike {
  const { deps } = adapter;
  const startedAt = deps.now();
  const deadline = Math.min(
    startedAt + (options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS),
    options.deadline ?? Infinity,
  );
  return new SessionPoller(adapter.poller, {
    v: 1,
    apiVersion: profile.version,
    sessionId: String(session.id),
    type: session.type,
    pollPath: sessionPollPath(session, profile, deps),
    vmId: options.vmId,
    startedAt,
    deadline,
    polls: 0,
    failedPolls: 0,
    lastStatus: session.status,
    session: slim(session),
  });
}

export function restoreSessionPoller(adapter: SessionAdapter, serialized: string): SessionPollerLike {
  let parsed: unknown;
  try {
    parsed = JSON.parse(serialized);
  } catch {
    throw new Error('restorePoller: the serialized poller state is not JSON');
  }
  const result = stateSchema.safeParse(parsed);
  if (!result.success) throw new Error('restorePoller: the serialized poller state is not valid');
  return new SessionPoller(adapter.poller, result.data);
}

class SessionPoller extends Poller<PollState, SessionResult, SessionProgress> implements SessionPollerLike {
  readonly sessionId: string;

  constructor(adapter: PollerAdapter<PollState, SessionResult, SessionProgress>, state: PollState) {
    super(adapter, state);
    this.sessionId = state.sessionId;
  }
}

export function createSessionAdapter(deps: SessionAdapterDeps): SessionAdapter {
  const intervalContext = (s: PollState) => ({
    sessionId: s.sessionId,
    elapsedMs: deps.now() - s.startedAt,
    polls: s.polls,
    lastPollElapsedMs: s.lastPollElapsedMs,
  });
  const readLog = async (s: PollState, abortSignal?: AbortSignal) => {
    const all = await deps.getLog(PROFILES[s.apiVersion], s.sessionId, abortSignal);
    const items = s.vmId ? itemsForVm(all, s.vmId) : all;
    return { forVm: items, entries: lastEntries(items) };
  };
  const poller: PollerAdapter<PollState, SessionResult, SessionProgress> = {
    scheduler: deps.scheduler,
    now: deps.now,
    deadline: (s) => s.deadline,
    isDone: (s) => isTerminalStatus(s.lastStatus),
    nextDelayMs: (s) => deps.reader.align(deps.policy.nextDelayMs(intervalContext(s))),
    replans: deps.policy.learns === true,
    // The state is updated in place: it lives for the whole wait of a session, so a fresh copy per poll
    // would be promoted to the old generation and left there as garbage at the next poll, thousands of
    // times per run.
    async poll(s) {
      let read;
      try {
        read = await deps.reader.read(s.sessionId, s.pollPath, routeOf(s.pollPath), s.type);
      } catch (error) {
        if (!isTransientError(error) || s.failedPolls + 1 >= MAX_CONSECUTIVE_POLL_FAILURES) throw error;
        s.polls += 1;
        s.failedPolls += 1;
        return { state: s, done: false };
      }
      const { session, retryAfterMs } = read;
      const done = isTerminalStatus(session.status);
      const age = deps.now() - s.startedAt;
      if (done) {
        // The appliance's own measure, kept between the last poll that saw it running and now.
        const measured = executionMs(session) ?? age;
        deps.policy.observe?.(
          Math.min(age, Math.max(s.lastPollElapsedMs ?? 0, measured)),
          s.lastPollElapsedMs,
        );
        // Only the final answer is kept; a running one says nothing the status does not.
        s.session = slim(session);
      } else {
        deps.policy.observeRunning?.(age, s.lastPollElapsedMs);
      }
      s.polls += 1;
      s.failedPolls = 0;
      s.lastStatus = session.status;
      s.lastPollElapsedMs = age;
      return { state: s, done, retryAfterMs };
    },
    async finish(s, outcome, { abortSignal }) {
      const base = { sessionId: s.sessionId, lastStatus: s.lastStatus, session: s.session, polls: s.polls };
      // The wait ended (deadline or maximum wait): no log read, nothing may be sent after a deadline.
      if (outcome === 'timedOut') return { ...base, status: 'TimedOut' };
      const status = s.lastStatus as TerminalSessionStatus;
      if (status !== 'Warning' && status !== 'Error') return { ...base, status };
      const log = await readLog(s, abortSignal);
      return { ...base, status: s.vmId ? vmStatus(log.forVm, status) : status, log: log.entries };
    },
    progress: (s) => ({ sessionId: s.sessionId, status: s.lastStatus, polls: s.polls }),
    serialize: ({ session: _omit, ...s }) => JSON.stringify(s),
  };
  return { deps, poller };
}

/**
 * What a poller keeps of the submitted and the final answer: thousands of sessions are followed at once,
 * and whatever each keeps between polls is promoted to the old generation; links and job details are not
 * needed any more.
 */
function slim(session: JobSession): JobSession {
  const { id, type, status, executionStartTime, executionStopTime, executionDuration } = session;
  return { id, type, status, executionStartTime, executionStopTime, executionDuration };
}

/** The appliance's own measure of the session, which the interval policy learns from. */
function executionMs(session: JobSession): number | undefined {
  const span = parseTimeSpanMs(session.executionDuration);
  if (span !== undefined) return span;
  if (session.executionStartTime && session.executionStopTime) {
    const ms = Date.parse(session.executionStopTime) - Date.parse(session.executionStartTime);
    return Number.isFinite(ms) ? ms : undefined;
  }
  return undefined;
}
