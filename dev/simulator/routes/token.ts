/** POST/DELETE /api/oauth2/token: the Password and Refresh_token grants, and logout. */
import { createHash, randomBytes } from 'node:crypto';
import { bearerToken } from '../auth';
import { isoTime } from '../format';
import { badRequest, loginRejected, type SimResponse } from '../response';
import type { RouteDef, RouteDeps } from './route';

const MFA_NEVER = '0001-01-01T00:00:00Z';

/** A stable uuid-shaped user id derived from the user name. */
function userIdOf(username: string): string {
  const h = createHash('sha256').update(username).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function tokenRoutes(deps: RouteDeps): RouteDef[] {
  const { tokens, users, counters } = deps;

  const login = (username: string): SimResponse => {
    const grant = tokens.issue(username);
    return {
      status: 200,
      body: {
        access_token: grant.accessToken,
        token_type: 'bearer',
        refresh_token: grant.refreshToken,
        expires_in: Math.ceil(deps.accessTokenLifetimeSec),
        '.issued': isoTime(grant.issuedMs),
        '.expires': isoTime(grant.expiresMs),
        userId: userIdOf(username),
        username,
        roleName: 'PortalAdmin',
        userType: 'Internal',
        mfa_enabled: false,
        shortLived: false,
      },
    };
  };

  const passwordGrant = (form: Map<string, string>): SimResponse => {
    const username = form.get('username');
    const password = form.get('password');
    const errors: Record<string, string[]> = {};
    if (!username) errors.username = ['The username field is required for grant_type Password.'];
    if (!password) errors.password = ['The password field is required for grant_type Password.'];
    if (!username || !password) return badRequest(errors);
    const user = users.find((u) => u.username === username && u.password === password);
    if (!user) return loginRejected('Invalid username or password.');
    if (user.mfa) {
      const mfaToken = randomBytes(24).toString('base64');
      const body = {
        mfa_enabled: true,
        mfa_token: mfaToken,
        expires_in: 0,
        '.issued': MFA_NEVER,
        '.expires': MFA_NEVER,
      };
      return { status: 200, body };
    }
    counters.tokensIssued.password++;
    return login(user.username);
  };

  const refreshGrant = (form: Map<string, string>): SimResponse => {
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) {
      return badRequest({
        refresh_token: ['The refresh_token field is required for grant_type Refresh_token.'],
      });
    }
    const username = tokens.redeemRefresh(refreshToken);
    if (username === undefined) return loginRejected('The refresh token is invalid, expired or revoked.');
    counters.tokensIssued.refresh++;
    return login(username);
  };

  return [
    {
      route: 'token',
      method: 'POST',
      pattern: /^\/api\/oauth2\/token$/,
      anonymous: true,
      handle: ({ body }) => {
        // Form keys are case-insensitive on the appliance (Username= and username= both work).
        const form = new Map<string, string>();
        for (const [key, value] of new URLSearchParams(body)) form.set(key.toLowerCase(), value);
        const grantType = form.get('grant_type');
        if (!grantType) return badRequest({ grant_type: ['The grant_type field is required.'] });
        if (grantType === 'Password') return passwordGrant(form);
        if (grantType === 'Refresh_token') return refreshGrant(form);
        return badRequest({ grant_type: ['Unsupported grant_type; use Password or Refresh_token.'] });
      },
    },
    {
      route: 'token.delete',
      method: 'DELETE',
      pattern: /^\/api\/oauth2\/token$/,
      handle: ({ headers }) => {
        const accessToken = bearerToken(headers.authorization);
        if (accessToken) tokens.revokeAccess(accessToken);
        return { status: 204 };
      },
    },
  ];
}
