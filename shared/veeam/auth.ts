/**
 * Token lifecycle: password login, refresh shortly before expiry with one shared in-flight promise, one
 * renewal after a 401, a single password login when the refresh token is rejected, and a bounded logout.
 */
import type { Clock } from '../clock';
import { MfaRequiredError, VeeamApiError, VeeamAuthError } from './errors';
import type { GuardedSend } from './retry';
import type { TransportRequest, TransportResponse } from './transport';
import { parseWire, tokenSchema } from './wire';

/** A logout waits at most this long: it runs at the end of every run, which must not hang on it. */
export const LOGOUT_TIMEOUT_MS = 2_000;

/** Answers of the token endpoint that mean "these credentials (or this refresh token) are not accepted". */
const REJECTED = new Set([400, 401, 403]);

export interface AuthOptions {
  username: string;
  password: string;
  /** Sends a token request (retried like any idempotent request). */
  send(request: TransportRequest): Promise<TransportResponse>;
  /** Refresh this long before expiry, capped at half the token lifetime (default 60 s). */
  refreshBeforeExpiryMs?: number;
  clock: Clock;
}

export interface Auth {
  /** A valid access token, refreshed first when it is about to expire. */
  getToken(abortSignal?: AbortSignal): Promise<string>;
  /** After a 401 with `staleToken`: a renewed token (shared with any concurrent renewal). */
  renew(staleToken: string, abortSignal?: AbortSignal): Promise<string>;
  /**
   * Best effort DELETE /api/oauth2/token, bounded by LOGOUT_TIMEOUT_MS; never throws, and does nothing
   * when no token was ever issued. A later request logs in again.
   */
  logout(abortSignal?: AbortSignal): Promise<void>;
  /** Current secrets, for scrubbing messages. */
  secrets(): string[];
}

interface TokenState {
  accessToken: string;
  refreshToken?: string;
  expiresAt: number;
  refreshAt: number;
}

const TOKEN_PATH = '/api/oauth2/token';

export function createAuth(options: AuthOptions): Auth {
  const now = () => options.clock.now();
  const refreshBeforeMs = options.refreshBeforeExpiryMs ?? 60_000;
  let state: TokenState | undefined;
  let pending: Promise<TokenState> | undefined;
  // Tokens replaced recently are still scrubbed from messages.
  const retired: string[] = [];

  async function grant(form: Record<string, string>, abortSignal?: AbortSignal): Promise<TokenState> {
    const response = await options.send({
      method: 'POST',
      path: TOKEN_PATH,
      route: TOKEN_PATH,
      kind: 'auth',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      abortSignal,
    });
    const body = parseWire(tokenSchema, response.body ?? {}, TOKEN_PATH);
    if (!body.access_token) {
      if (body.mfa_enabled === true) throw new MfaRequiredError();
      throw new VeeamAuthError(response.status, 'the token response has no access_token');
    }
    const lifetimeMs = Math.max(0, (body.expires_in ?? 3600) * 1000);
    const issuedAt = now();
    return {
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      expiresAt: issuedAt + lifetimeMs,
      refreshAt: issuedAt + lifetimeMs - Math.min(refreshBeforeMs, lifetimeMs / 2),
    };
  }

  async function passwordLogin(abortSignal?: AbortSignal): Promise<TokenState> {
    try {
      return await grant(
        { grant_type: 'Password', username: options.username, password: options.password },
        abortSignal,
      );
    } catch (error) {
      if (error instanceof VeeamApiError && REJECTED.has(error.status)) {
        throw new VeeamAuthError(error.status, error.detail ?? error.title);
      }
      throw error;
    }
  }

  /** Refresh when a refresh token exists; when the appliance rejects it, log in with the password once. */
  async function renewState(abortSignal?: AbortSignal): Promise<TokenState> {
    const refreshToken = state?.refreshToken;
    if (refreshToken) {
      try {
        return await grant({ grant_type: 'Refresh_token', refresh_token: refreshToken }, abortSignal);
      } catch (error) {
        if (!(error instanceof VeeamApiError && REJECTED.has(error.status))) throw error;
      }
    }
    return passwordLogin(abortSignal);
  }

  function shared(work: () => Promise<TokenState>): Promise<TokenState> {
    pending ??= work()
      .then((next) => {
        if (state) retired.push(state.accessToken, ...(state.refreshToken ? [state.refreshToken] : []));
        retired.splice(0, Math.max(0, retired.length - 8));
        return (state = next);
      })
      .finally(() => (pending = undefined));
    return pending;
  }

  return {
    async getToken(abortSignal) {
      if (pending) return (await pending).accessToken;
      if (!state) return (await shared(() => passwordLogin(abortSignal))).accessToken;
      if (now() >= state.refreshAt) return (await shared(() => renewState(abortSignal))).accessToken;
      return state.accessToken;
    },
    async renew(staleToken, abortSignal) {
      if (pending) return (await pending).accessToken;
      if (state && state.accessToken !== staleToken) return state.accessToken;
      return (await shared(() => renewState(abortSignal))).accessToken;
    },
    async logout(abortSignal) {
      const current = (await pending?.catch(() => undefined)) ?? state;
      if (!current) return;
      const bound = new AbortController();
      const timer = options.clock.setTimer(() => bound.abort(), LOGOUT_TIMEOUT_MS);
      try {
        await options.send({
          method: 'DELETE',
          path: TOKEN_PATH,
          route: TOKEN_PATH,
          kind: 'auth',
          headers: { Authorization: `Bearer ${current.accessToken}` },
          abortSignal: abortSignal ? AbortSignal.any([abortSignal, bound.signal]) : bound.signal,
        });
      } catch {
        // Best effort: the token expires on its own within the hour.
      } finally {
        options.clock.clearTimer(timer);
        if (state === current) {
          retired.push(current.accessToken, ...(current.refreshToken ? [current.refreshToken] : []));
          state = undefined;
        }
      }
    },
    secrets() {
      return [options.password, state?.accessToken ?? '', state?.refreshToken ?? '', ...retired].filter(
        (s) => s !== '',
      );
    },
  };
}

/** Sends `request` with the bearer token; after a 401, renews the token once and replays the request. */
export function createAuthorizedSend(auth: Auth, send: GuardedSend): GuardedSend {
  return async (request, sendOptions) => {
    const withToken = (token: string): TransportRequest => ({
      ...request,
      headers: { ...request.headers, Authorization: `Bearer ${token}` },
    });
    const token = await auth.getToken(request.abortSignal);
    try {
      return await send(withToken(token), sendOptions);
    } catch (error) {
      if (!(error instanceof VeeamApiError && error.status === 401)) throw error;
      const renewed = await auth.renew(token, request.abortSignal);
      return send(withToken(renewed), sendOptions);
    }
  };
}
