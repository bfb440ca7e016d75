import { MfaRequiredError, VeeamAuthError } from '../../shared/veeam/errors';
import { createFakeClock } from '../support/fakeClock';
import { clientFor, closeAll, leakSurface, PASSWORD, simulator, until, USERNAME } from './helpers';

afterEach(closeAll);

const VM = { id: 'vm-auth-1', sessionDurationMs: 30 };

describe('token lifecycle', () => {
  it('logs in with the password grant and reuses the token', async () => {
    const sim = await simulator({ vms: [VM] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await client.planDeletion(VM.id);
    await client.planDeletion(VM.id);
    expect(sim.counters.tokensIssued).toEqual({ password: 1, refresh: 0 });
    expect(client.requestCounts.auth).toBe(1);
  });

  it('token expired mid-run: one 401, a refresh, the request replayed', async () => {
    const sim = await simulator({ vms: [VM] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await client.connect();
    sim.expireAccessTokens();
    const plan = await client.planDeletion(VM.id);
    expect(plan.vmId).toBe(VM.id);
    expect(sim.counters.tokensIssued).toEqual({ password: 1, refresh: 1 });
    expect(client.requests.filter((r) => r.status === 401)).toHaveLength(1);
  });

  it('refreshes shortly before expiry (on the injected clock) without waiting for a 401', async () => {
    // A 60 s token is refreshed 30 s before expiry (half its lifetime caps the default 60 s margin).
    const sim = await simulator({ vms: [VM], accessTokenLifetimeSec: 60 });
    const clock = createFakeClock(Date.now());
    const client = clientFor(sim, { apiVersion: 'v8.1', clock });
    await client.connect();
    await clock.advance(29_999);
    await client.planDeletion(VM.id);
    expect(sim.counters.tokensIssued.refresh).toBe(0);
    await clock.advance(1);
    await client.planDeletion(VM.id);
    expect(sim.counters.tokensIssued).toEqual({ password: 1, refresh: 1 });
    expect(client.requests.some((r) => r.status === 401)).toBe(false);
  });

  it('refresh rejected: logs in with the password again, once', async () => {
    const sim = await simulator({ vms: [VM] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await client.connect();
    sim.expireAccessTokens();
    sim.revokeRefreshTokens();
    await client.planDeletion(VM.id);
    expect(sim.counters.tokensIssued).toEqual({ password: 2, refresh: 0 });
    const tokenCalls = client.requests.filter((r) => r.kind === 'auth');
    expect(tokenCalls.map((r) => r.status)).toEqual([200, 401, 200]);
  });

  it('concurrent requests after expiry share one refresh', async () => {
    const sim = await simulator({ vms: [VM] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await client.connect();
    sim.expireAccessTokens();
    await Promise.all([1, 2, 3, 4, 5].map(() => client.planDeletion(VM.id)));
    expect(sim.counters.tokensIssued).toEqual({ password: 1, refresh: 1 });
  });

  it('bad credentials: VeeamAuthError, no password in it', async () => {
    const sim = await simulator({ users: [{ username: USERNAME, password: 'something-else' }] });
    const client = clientFor(sim);
    const error = await client.connect().catch((e) => e);
    expect(error).toBeInstanceOf(VeeamAuthError);
    expect(error.status).toBe(401);
    expect(leakSurface(error, client.warnings, client.requests)).not.toContain(PASSWORD);
  });

  it('MFA account: a clear error telling to use a service account without MFA', async () => {
    const sim = await simulator({ users: [{ username: USERNAME, password: PASSWORD, mfa: true }] });
    const client = clientFor(sim);
    const error = await client.connect().catch((e) => e);
    expect(error).toBeInstanceOf(MfaRequiredError);
    expect(error.message).toBe('MFA is enabled for this account; use a service account without MFA');
    expect(leakSurface(error)).not.toContain(PASSWORD);
  });
});

describe('logout', () => {
  it('revokes the token with DELETE /api/oauth2/token, counted as auth; the next request logs in again', async () => {
    const sim = await simulator({ vms: [VM] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await client.connect();
    await client.logout();
    expect(sim.counters.requestsByRoute['token.delete']).toBe(1);
    expect(client.requests.filter((r) => r.kind === 'auth').map((r) => [r.method, r.status])).toEqual([
      ['POST', 200],
      ['DELETE', 204],
    ]);
    await client.planDeletion(VM.id);
    expect(sim.counters.tokensIssued.password).toBe(2);
  });

  it('is a no-op when never logged in', async () => {
    const sim = await simulator({ vms: [VM] });
    const client = clientFor(sim);
    await client.logout();
    expect(client.requests).toEqual([]);
  });

  it('never throws and gives up after 2 s (on the injected clock) when the appliance does not answer', async () => {
    const sim = await simulator({ vms: [VM] });
    const clock = createFakeClock(Date.now());
    const client = clientFor(sim, { apiVersion: 'v8.1', clock, requestTimeoutMs: 600_000 });
    await client.connect();
    sim.addFault({ route: 'token.delete', kind: 'slow', delayMs: 60_000, times: 1 });
    let settled = false;
    const out = client.logout().then(() => (settled = true));
    await until(() => sim.counters.requestsByRoute['token.delete'] === 1, 'the logout request');
    await clock.advance(1_999);
    expect(settled).toBe(false);
    await clock.advance(1);
    await out;
    expect(settled).toBe(true);
  });
});
