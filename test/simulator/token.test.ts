import { startSimulator, type SimulatorHandle } from '../../dev/simulator';
import { call, tokenRequest, USER } from './helpers';

describe('simulator token endpoint', () => {
  let sim: SimulatorHandle;
  beforeEach(async () => {
    sim = await startSimulator({
      fleet: { count: 2 },
      users: [USER, { username: 'mfa-user', password: 'mfa-password', mfa: true }],
    });
  });
  afterEach(() => sim.close());

  it('issues a token pair for the Password grant with the Login fields', async () => {
    const reply = await tokenRequest(sim, { grant_type: 'Password', ...USER });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({
      token_type: 'bearer',
      expires_in: 3600,
      username: USER.username,
      mfa_enabled: false,
    });
    expect(typeof reply.json.access_token).toBe('string');
    expect(typeof reply.json.refresh_token).toBe('string');
    expect(Date.parse(reply.json['.expires']) - Date.parse(reply.json['.issued'])).toBe(3600_000);
    expect(sim.counters.tokensIssued).toEqual({ password: 1, refresh: 0 });
    const vms = await call(`${sim.url}/api/v8.1/virtualMachines`, { token: reply.json.access_token });
    expect(vms.status).toBe(200);
  });

  it('matches form keys case-insensitively', async () => {
    const reply = await tokenRequest(sim, {
      grant_type: 'Password',
      Username: USER.username,
      Password: USER.password,
    });
    expect(reply.status).toBe(200);
  });

  it('answers bad credentials with 401 problem+json that does not echo the password', async () => {
    const reply = await tokenRequest(sim, {
      grant_type: 'Password',
      username: USER.username,
      password: 'canary-Pw-123',
    });
    expect(reply.status).toBe(401);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.json).toMatchObject({ status: 401, title: 'Unauthorized' });
    expect(reply.text).not.toContain('canary-Pw-123');
  });

  it.each([
    [{}, 'grant_type'],
    [{ grant_type: 'Password', username: 'x' }, 'password'],
    [{ grant_type: 'Refresh_token' }, 'refresh_token'],
    [{ grant_type: 'password', ...USER }, 'grant_type'],
  ])('answers the malformed body %j with 400 naming %s', async (form, field) => {
    const reply = await tokenRequest(sim, form as Record<string, string>);
    expect(reply.status).toBe(400);
    expect(reply.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(reply.json.errors[field]).toEqual([expect.any(String)]);
  });

  it('refreshes with Refresh_token and rejects revoked refresh tokens', async () => {
    const first = await tokenRequest(sim, { grant_type: 'Password', ...USER });
    const refreshed = await tokenRequest(sim, {
      grant_type: 'Refresh_token',
      refresh_token: first.json.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.json.access_token).not.toBe(first.json.access_token);
    expect(sim.counters.tokensIssued).toEqual({ password: 1, refresh: 1 });
    sim.revokeRefreshTokens();
    const revoked = await tokenRequest(sim, {
      grant_type: 'Refresh_token',
      refresh_token: refreshed.json.refresh_token,
    });
    expect(revoked.status).toBe(401);
    const unknown = await tokenRequest(sim, { grant_type: 'Refresh_token', refresh_token: 'not-issued' });
    expect(unknown.status).toBe(401);
  });

  it('expires access tokens on demand; a refreshed token works again', async () => {
    const first = await tokenRequest(sim, { grant_type: 'Password', ...USER });
    sim.expireAccessTokens();
    const expired = await call(`${sim.url}/api/v8.1/virtualMachines`, { token: first.json.access_token });
    expect(expired.status).toBe(401);
    expect(expired.headers.get('www-authenticate')).toContain('invalid_token');
    const refreshed = await tokenRequest(sim, {
      grant_type: 'Refresh_token',
      refresh_token: first.json.refresh_token,
    });
    const again = await call(`${sim.url}/api/v8.1/virtualMachines`, { token: refreshed.json.access_token });
    expect(again.status).toBe(200);
  });

  it('answers the MFA challenge without an access token for an MFA user', async () => {
    const reply = await tokenRequest(sim, {
      grant_type: 'Password',
      username: 'mfa-user',
      password: 'mfa-password',
    });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ mfa_enabled: true, expires_in: 0, '.issued': '0001-01-01T00:00:00Z' });
    expect(typeof reply.json.mfa_token).toBe('string');
    expect(reply.json.access_token).toBeUndefined();
  });

  it('refuses every API route without a valid bearer token, except serviceIsUp', async () => {
    for (const path of ['/api/v1/virtualMachines', '/api/v8.1/system/about', '/api/v8.1/jobSessions']) {
      const none = await call(`${sim.url}${path}`);
      expect(none.status).toBe(401);
      expect(none.json).toMatchObject({ status: 401 });
      const bogus = await call(`${sim.url}${path}`, { token: 'forged' });
      expect(bogus.status).toBe(401);
    }
    expect((await call(`${sim.url}/api/v8.1/system/serviceIsUp`)).status).toBe(200);
  });

  it('logs out with DELETE /api/oauth2/token', async () => {
    const { json } = await tokenRequest(sim, { grant_type: 'Password', ...USER });
    expect(
      (await call(`${sim.url}/api/oauth2/token`, { method: 'DELETE', token: json.access_token })).status,
    ).toBe(204);
    expect((await call(`${sim.url}/api/v8.1/system/about`, { token: json.access_token })).status).toBe(401);
  });
});

describe('simulator access-token lifetime', () => {
  it('expires access tokens after accessTokenLifetimeSec', async () => {
    // The appliance's clock is the test's, so the expiry cannot race a loaded machine.
    let nowMs = Date.parse('2026-06-01T08:00:00Z');
    const sim = await startSimulator({ fleet: { count: 1 }, accessTokenLifetimeSec: 60, now: () => nowMs });
    try {
      const { json } = await tokenRequest(sim, { grant_type: 'Password', ...USER });
      expect((await call(`${sim.url}/api/v1/virtualMachines`, { token: json.access_token })).status).toBe(
        200,
      );
      nowMs += 59_999;
      expect((await call(`${sim.url}/api/v1/virtualMachines`, { token: json.access_token })).status).toBe(
        200,
      );
      nowMs += 1;
      expect((await call(`${sim.url}/api/v1/virtualMachines`, { token: json.access_token })).status).toBe(
        401,
      );
      const refreshed = await tokenRequest(sim, {
        grant_type: 'Refresh_token',
        refresh_token: json.refresh_token,
      });
      expect(
        (await call(`${sim.url}/api/v1/virtualMachines`, { token: refreshed.json.access_token })).status,
      ).toBe(200);
    } finally {
      await sim.close();
    }
  });
});
