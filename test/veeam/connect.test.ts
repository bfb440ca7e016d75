import {
  isApplianceUnreachable,
  VeeamAccessError,
  VeeamApiVersionError,
  VeeamError,
  VeeamNetworkError,
} from '../../shared/veeam/errors';
import { createVeeamClient } from '../../shared/veeam/client';
import { clientFor, closeAll, simulator } from './helpers';
import { localAppliance, type LocalServer } from './localServer';

afterEach(closeAll);

describe('connect: the API version', () => {
  it("'auto' probes v8.1 with the bearer token", async () => {
    const sim = await simulator({ vms: [{ id: 'c1' }] });
    const client = clientFor(sim);
    await expect(client.connect()).resolves.toEqual({ apiVersion: 'v8.1' });
    expect(sim.counters.requestsByRoute['v8.1.about']).toBe(1);
    expect(sim.counters.authorizationByOrigin[sim.url]).toBe(1);
  });

  it("'auto' on an appliance without v8.1 (404) settles on v1 after checking it", async () => {
    const sim = await simulator({ versions: ['v1'], vms: [{ id: 'c1' }] });
    const client = clientFor(sim);
    await expect(client.connect()).resolves.toEqual({ apiVersion: 'v1' });
    expect(sim.counters.requestsByRoute['v1.listVms']).toBe(1);
  });

  it('a pinned version the appliance lacks fails once, at connect', async () => {
    const v1Only = await simulator({ versions: ['v1'], vms: [{ id: 'c1' }] });
    const pinned81 = clientFor(v1Only, { apiVersion: 'v8.1' });
    const error = await pinned81.connect().catch((e) => e);
    expect(error).toBeInstanceOf(VeeamApiVersionError);
    expect(error.message).toContain('/api/v8.1');
    await expect(pinned81.deleteSnapshots('c1')).rejects.toBeInstanceOf(VeeamApiVersionError);
    expect(v1Only.counters.deleteCallsByVm).toEqual({});

    const v81Only = await simulator({ versions: ['v8.1'], vms: [{ id: 'c1' }] });
    const pinned1 = clientFor(v81Only, { apiVersion: 'v1' });
    await expect(pinned1.connect()).rejects.toBeInstanceOf(VeeamApiVersionError);
    await expect(clientFor(v81Only, { apiVersion: 'v8.1' }).connect()).resolves.toEqual({
      apiVersion: 'v8.1',
    });
  });

  describe('behind a proxy that answers 403 on the v8.1 path', () => {
    let waf: LocalServer;
    afterEach(() => waf.close());

    it('is a connect failure (VeeamAccessError with the status), not a guess of v1', async () => {
      waf = await localAppliance((_method, path) =>
        path.startsWith('/api/v8.1/')
          ? { status: 403, body: { title: 'Forbidden' } }
          : { status: 200, body: {} },
      );
      const client = createVeeamClient({ baseUrl: waf.url, username: 'u', password: 'p' });
      try {
        const error = await client.connect().catch((e) => e);
        expect(error).toBeInstanceOf(VeeamAccessError);
        expect(error.status).toBe(403);
        expect(client.apiVersion).toBeUndefined();
        expect(waf.requests.filter((r) => r.startsWith('GET /api/v1'))).toEqual([]);
      } finally {
        client.close();
      }
    });
  });
});

describe('an appliance that cannot be reached', () => {
  it('ECONNREFUSED is a VeeamNetworkError with notSent (isApplianceUnreachable)', async () => {
    const sim = await simulator();
    const url = sim.url;
    await sim.close();
    const client = createVeeamClient({
      baseUrl: url,
      username: 'u',
      password: 'local-password',
      retry: { maxRetries: 0 },
    });
    try {
      const error = await client.connect().catch((e) => e);
      expect(error).toBeInstanceOf(VeeamNetworkError);
      expect(error).toBeInstanceOf(VeeamError);
      expect(error).toMatchObject({ code: 'ECONNREFUSED', notSent: true });
      expect(isApplianceUnreachable(error)).toBe(true);
    } finally {
      client.close();
    }
  });
});
