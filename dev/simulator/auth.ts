/** Issued tokens: opaque random strings with lifetimes, checked on every authorized route. */
import { randomBytes } from 'node:crypto';

export interface TokenGrant {
  accessToken: string;
  refreshToken: string;
  issuedMs: number;
  expiresMs: number;
}

export type BearerCheck = { ok: true; username: string } | { ok: false; expired: boolean };

export interface TokenStore {
  issue(username: string): TokenGrant;
  /** The user a live refresh token belongs to, or undefined when unknown, expired or revoked. */
  redeemRefresh(refreshToken: string): string | undefined;
  checkBearer(authorization: string | undefined): BearerCheck;
  revokeAccess(accessToken: string): void;
  expireAccessTokens(): void;
  revokeRefreshTokens(): void;
}

export interface TokenStoreOptions {
  accessLifetimeMs: number;
  refreshLifetimeMs: number;
  now: () => number;
}

const token = (): string => randomBytes(32).toString('base64url');

export function createTokenStore({
  accessLifetimeMs,
  refreshLifetimeMs,
  now,
}: TokenStoreOptions): TokenStore {
  const access = new Map<string, { username: string; expiresMs: number }>();
  const refresh = new Map<string, { username: string; expiresMs: number }>();

  return {
    issue: (username) => {
      const issuedMs = now();
      const grant = {
        accessToken: token(),
        refreshToken: token(),
        issuedMs,
        expiresMs: issuedMs + accessLifetimeMs,
      };
      access.set(grant.accessToken, { username, expiresMs: grant.expiresMs });
      refresh.set(grant.refreshToken, { username, expiresMs: issuedMs + refreshLifetimeMs });
      return grant;
    },
    redeemRefresh: (refreshToken) => {
      const entry = refresh.get(refreshToken);
      return entry && entry.expiresMs > now() ? entry.username : undefined;
    },
    checkBearer: (authorization) => {
      const bearer = bearerToken(authorization);
      const entry = bearer === undefined ? undefined : access.get(bearer);
      if (!entry) return { ok: false, expired: false };
      if (entry.expiresMs <= now()) return { ok: false, expired: true };
      return { ok: true, username: entry.username };
    },
    revokeAccess: (accessToken) => {
      access.delete(accessToken);
    },
    expireAccessTokens: () => {
      for (const entry of access.values()) entry.expiresMs = 0;
    },
    revokeRefreshTokens: () => refresh.clear(),
  };
}

/** The bearer token of an Authorization header, for logout. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
}
