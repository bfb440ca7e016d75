import https from 'node:https';
import { startSimulator } from '../../dev/simulator';
import { httpsGet, selfSignedCert, USER } from './helpers';

describe('simulator over TLS', () => {
  it('serves https with the given certificate, trusted as a PEM', async () => {
    const { cert, key } = await selfSignedCert();
    const sim = await startSimulator({ fleet: { count: 2 }, tls: { cert, key } });
    try {
      expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(await httpsGet(`${sim.url}/api/v8.1/system/serviceIsUp`, cert)).toEqual({
        status: 200,
        body: '',
      });

      const form = new URLSearchParams({ grant_type: 'Password', ...USER }).toString();
      const login = await new Promise<string>((resolve, reject) => {
        const req = https.request(
          `${sim.url}/api/oauth2/token`,
          { method: 'POST', ca: cert, headers: { 'content-type': 'application/x-www-form-urlencoded' } },
          (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve(body));
          },
        );
        req.on('error', reject);
        req.end(form);
      });
      const token = JSON.parse(login).access_token as string;
      const vms = await httpsGet(`${sim.url}/api/v8.1/virtualMachines`, cert, token);
      expect(vms.status).toBe(200);
      expect(JSON.parse(vms.body).results[0]._links.self.href.startsWith(sim.url)).toBe(true);
      expect(sim.counters.authorizationByOrigin).toEqual({ [sim.url]: 1 });
    } finally {
      await sim.close();
    }
  });

  it('is refused by a client that does not trust the certificate', async () => {
    const { cert, key } = await selfSignedCert();
    const other = await selfSignedCert();
    const sim = await startSimulator({ fleet: { count: 1 }, tls: { cert, key } });
    try {
      await expect(httpsGet(`${sim.url}/api/v8.1/system/serviceIsUp`, other.cert)).rejects.toThrow(
        /self[- ]signed|certificate/i,
      );
    } finally {
      await sim.close();
    }
  });
});
