import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpRequest } from '@azure/functions';
import type { SimulatorHandle } from '../../dev/simulator';
import { getSnapshotCleanupSession } from '../../functions/getSnapshotCleanupSession';
import { runSnapshotCleanup } from '../../functions/runSnapshotCleanup';
import { closeSessionLookupClient } from '../../shared/admin/sessionLookup';
import { invalidateSecretCache } from '../../shared/config';
import type { Report } from '../../shared/report';
import { startFakeKeyVault, type FakeKeyVault } from '../support/fake-key-vault';
import { startFakeManagedIdentity, type FakeManagedIdentity } from '../support/fake-managed-identity';
import { settingsFor, startAppliance, USER, vms } from '../support/engine';
import { invocation, postCleanup, setEnv } from '../support/functions';

/**
 * A loopback proxy in front of the simulator that presents chosen sessions as backup sessions: the simulator
 * only creates deletion sessions, and a real appliance also holds backup and restore sessions.
 */
async function startRetypingProxy(target: string, backupIds: Set<string>) {
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: { ...req.headers, host: new URL(target).host } },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () => {
          let body = Buffer.concat(chunks);
          const id = /\/jobSessions\/([^/?]+)$/.exec(req.url ?? '')?.[1];
          if (id && backupIds.has(id) && answer.statusCode === 200) {
            body = Buffer.from(JSON.stringify({ ...JSON.parse(body.toString()), type: 'PolicyBackup' }));
          }
          const { 'transfer-encoding': _chunked, ...headers } = answer.headers;
          headers['content-length'] = String(body.length);
          res.writeHead(answer.statusCode ?? 502, headers).end(body);
        });
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const get = (sessionId: string) =>
  getSnapshotCleanupSession(
    new HttpRequest({
      method: 'GET',
      url: `http://localhost:7071/api/cleanup/sessions/x`,
      params: { sessionId },
    }),
    invocation('getSnapshotCleanupSession').context,
  );

describe('GET /api/cleanup/sessions/{id}: which sessions, and how many logins', () => {
  let appliance: SimulatorHandle;
  let proxy: Awaited<ReturnType<typeof startRetypingProxy>>;
  const backupIds = new Set<string>();
  let restoreEnv: () => void;
  let sessionIds: string[];

  beforeAll(async () => {
    appliance = await startAppliance({ vms: vms(2, { sessionDurationMs: 60_000 }) });
    proxy = await startRetypingProxy(appliance.url, backupIds);
    restoreEnv = setEnv({ ...settingsFor(appliance, ['vm-001', 'vm-002']), VEEAM_URL: proxy.url });
    const started = await runSnapshotCleanup(
      postCleanup(JSON.stringify({ waitSeconds: 3 })),
      invocation('runSnapshotCleanup').context,
    );
    sessionIds = (started.jsonBody as Report).results.map((r) => r.sessionId as string);
  });
  afterAll(async () => {
    closeSessionLookupClient();
    restoreEnv();
    await proxy.close();
    await appliance.close();
  });
  beforeEach(() => {
    closeSessionLookupClient();
    backupIds.clear();
    appliance.resetCounters();
  });

  it('logs in once for many GETs on the same instance', async () => {
    for (let i = 0; i < 5; i++) {
      const response = await get(sessionIds[i % 2]);
      expect(response.status).toBe(200);
      expect(response.jsonBody).toMatchObject({ sessionId: sessionIds[i % 2], status: 'Running' });
    }
    expect(appliance.counters.tokensIssued.password).toBe(1);
    expect(appliance.counters.requestsByRoute.token).toBe(1);
    expect(appliance.counters.requestsByRoute['v8.1.getSession']).toBe(5);
  });

  it('answers 404 for a session that is not a snapshot deletion, and never reads its log', async () => {
    backupIds.add(sessionIds[0]);
    const response = await get(sessionIds[0]);
    expect(response.status).toBe(404);
    expect((response.jsonBody as { detail: string }).detail).toContain('no snapshot-deletion session');
    expect(appliance.counters.requestsByRoute['v8.1.getSessionLog']).toBeUndefined();
    expect((await get(sessionIds[1])).status).toBe(200);
  });

  it('answers the same 404 for an id the appliance does not know', async () => {
    const response = await get('00000000-0000-0000-0000-000000000000');
    expect(response.status).toBe(404);
    expect((response.jsonBody as { detail: string }).detail).toContain('no snapshot-deletion session');
  });

  it('logs in again when the connection settings change', async () => {
    const other = await startAppliance({ vms: vms(1) });
    try {
      expect((await get(sessionIds[0])).status).toBe(200);
      const restore = setEnv({ VEEAM_URL: other.url });
      try {
        expect((await get(sessionIds[0])).status).toBe(404);
        expect(other.counters.tokensIssued.password).toBe(1);
      } finally {
        restore();
      }
      expect((await get(sessionIds[0])).status).toBe(200);
      expect(appliance.counters.tokensIssued.password).toBe(2);
    } finally {
      closeSessionLookupClient();
      await other.close();
    }
  });

  it('answers 502 without the password when the appliance refuses the login', async () => {
    const restore = setEnv({ VEEAM_PASSWORD: 'CANARY-WRONG-PASSWORD-51d0' });
    try {
      const response = await get(sessionIds[0]);
      expect(response.status).toBe(502);
      const text = JSON.stringify(response.jsonBody);
      expect(text).not.toContain('CANARY-WRONG-PASSWORD-51d0');
      expect(text).not.toContain(USER.password);
    } finally {
      restore();
    }
  });
});

describe('GET /api/cleanup/sessions/{id} after the appliance password was rotated', () => {
  const ROTATED = 'CANARY-ROTATED-PASSWORD-9e2b';
  const applianceUser = { ...USER };
  let appliance: SimulatorHandle;
  let vault: FakeKeyVault;
  let msi: FakeManagedIdentity;
  let restoreEnv: () => void;

  beforeAll(async () => {
    appliance = await startAppliance({ vms: vms(1), users: [applianceUser] });
    msi = await startFakeManagedIdentity({ token: 'msi-token-for-lookups' });
    vault = await startFakeKeyVault({
      secrets: {
        'veeam-url': appliance.url,
        'veeam-username': USER.username,
        'veeam-password': USER.password,
        'veeam-vm-ids': JSON.stringify(['vm-001']),
      },
      requireToken: 'msi-token-for-lookups',
    });
    restoreEnv = setEnv({
      KEY_VAULT_URL: vault.url,
      IDENTITY_ENDPOINT: msi.url,
      IDENTITY_HEADER: msi.header,
      VEEAM_URL: undefined,
      VEEAM_USERNAME: undefined,
      VEEAM_PASSWORD: undefined,
      VEEAM_VM_IDS: undefined,
    });
    invalidateSecretCache();
  });
  afterAll(async () => {
    closeSessionLookupClient();
    restoreEnv();
    invalidateSecretCache();
    await Promise.all([appliance.close(), vault.close(), msi.close()]);
  });

  it('drops the client and the cached secrets on a refused login, so the next GET uses the new password', async () => {
    const unknown = '00000000-0000-0000-0000-000000000000';
    expect((await get(unknown)).status).toBe(404);
    applianceUser.password = ROTATED;
    appliance.expireAccessTokens();
    appliance.revokeRefreshTokens();
    vault.setSecret('veeam-password', ROTATED);

    const refused = await get(unknown);
    expect(refused.status).toBe(502);
    expect(JSON.stringify(refused.jsonBody)).not.toContain(USER.password);
    expect((await get(unknown)).status).toBe(404);
    expect(appliance.counters.tokensIssued.password).toBe(2);
  });
});
