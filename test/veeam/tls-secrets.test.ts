import { ConfigError } from '../../shared/errors';
import { createVeeamClient } from '../../shared/veeam/client';
import { VeeamTlsError } from '../../shared/veeam/errors';
import { clientFor, closeAll, leakSurface, PASSWORD, simulator, USERNAME } from './helpers';
import { makePki } from './pki';

afterEach(closeAll);

describe('TLS', () => {
  const pki = makePki();

  it('a self-signed appliance is trusted through the given CA', async () => {
    const sim = await simulator({ tls: { cert: pki.cert, key: pki.key }, vms: [{ id: 'tls1' }] });
    expect(sim.url.startsWith('https://')).toBe(true);
    const client = clientFor(sim, { caCert: pki.caCert });
    await expect(client.connect()).resolves.toEqual({ apiVersion: 'v8.1' });
    await expect(client.planDeletion('tls1')).resolves.toMatchObject({ vmId: 'tls1' });
  });

  it('without the CA it is rejected with an error that names the certificate and the fix', async () => {
    const sim = await simulator({ tls: { cert: pki.cert, key: pki.key } });
    const client = clientFor(sim);
    const error = await client.connect().catch((e) => e);
    expect(error).toBeInstanceOf(VeeamTlsError);
    expect(error.message).toMatch(/certificate/);
    expect(error.message).toMatch(/VEEAM_CA_CERT/);
    expect(error.origin).toBe(sim.origin);
    expect(leakSurface(error, client.warnings, client.requests)).not.toContain(PASSWORD);
    // Not retried: a certificate does not fix itself.
    expect(client.requests).toHaveLength(1);
  });

  it('a CA that did not sign the certificate is rejected too', async () => {
    const other = makePki();
    const sim = await simulator({ tls: { cert: pki.cert, key: pki.key } });
    const client = clientFor(sim, { caCert: other.caCert });
    await expect(client.connect()).rejects.toBeInstanceOf(VeeamTlsError);
  });
});

describe('configuration', () => {
  const base = { username: USERNAME, password: PASSWORD };
  it('plain http:// only for loopback; the error names the setting and not the value', () => {
    expect(() => createVeeamClient({ ...base, baseUrl: 'http://appliance.example.com' })).toThrow(
      ConfigError,
    );
    const error = (() => {
      try {
        createVeeamClient({ ...base, baseUrl: 'https://user:s3cr3t-in-url@appliance.example.com' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).not.toContain('s3cr3t-in-url');
    expect(() => createVeeamClient({ ...base, baseUrl: 'http://127.0.0.1:1' }).close()).not.toThrow();
    expect(() =>
      createVeeamClient({ ...base, baseUrl: 'https://appliance.example.com' }).close(),
    ).not.toThrow();
  });
});

describe('secrets never leak (canary)', () => {
  it('across 401s, refresh rejection, network failures, API errors, warnings and request info', async () => {
    const errors: unknown[] = [];
    const foreign = await simulator();
    const sim = await simulator({
      vms: [
        { id: 'c1', sessionDurationMs: 20 },
        { id: 'c2', outcome: 'Error', sessionDurationMs: 20 },
      ],
    });
    sim.addFault({
      route: 'v8.1.deleteManualSnapshots',
      kind: 'foreignSelfLink',
      foreignOrigin: foreign.url,
    });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await client.connect();
    sim.expireAccessTokens();
    sim.revokeRefreshTokens();
    const submitted = await client.deleteSnapshots('c2');
    if (submitted.kind === 'session')
      errors.push(await client.createSessionPoller(submitted.session).pollUntilDone());
    errors.push(await client.deleteSnapshots('nope').catch((e) => e));
    sim.addFault({ route: 'v8.1.getVm', kind: 'drop', times: 10 });
    errors.push(await client.planDeletion('c1').catch((e) => e));
    sim.addFault({ route: 'v8.1.getVm', kind: 'status', status: 503, times: 10 });
    errors.push(await client.planDeletion('c1').catch((e) => e));

    const wrong = await simulator({ users: [{ username: USERNAME, password: 'other' }] });
    errors.push(
      await clientFor(wrong)
        .connect()
        .catch((e) => e),
    );

    const surface = leakSurface(...errors, client.warnings, client.requests);
    expect(errors.filter((e) => e instanceof Error).length).toBeGreaterThanOrEqual(4);
    expect(client.warnings.length).toBeGreaterThan(0);
    expect(surface).not.toContain(PASSWORD);
    expect(surface).not.toMatch(/Bearer|access_token|refresh_token/);
  });
});
