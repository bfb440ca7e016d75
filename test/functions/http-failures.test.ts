import net from 'node:net';
import type { SimulatorHandle } from '../../dev/simulator';
import { runSnapshotCleanup } from '../../functions/runSnapshotCleanup';
import { invalidateSecretCache } from '../../shared/config';
import type { Report, RunFailure } from '../../shared/report';
import { selfSignedCert } from '../simulator/helpers';
import { settingsFor, startAppliance, USER, vms } from '../support/engine';
import { invocation, postCleanup, setEnv } from '../support/functions';

const ids = ['vm-001', 'vm-002'];
const WRONG_PASSWORD = 'CANARY-WRONG-PASSWORD-51d0';

/** A loopback port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('POST /api/cleanup when nothing could be attempted', () => {
  const appliances: SimulatorHandle[] = [];
  let restoreEnv: (() => void) | undefined;
  afterEach(async () => {
    restoreEnv?.();
    restoreEnv = undefined;
    invalidateSecretCache();
    await Promise.all(appliances.splice(0).map((a) => a.close()));
  });

  async function post(env: Record<string, string>) {
    restoreEnv = setEnv(env);
    invalidateSecretCache();
    const response = await runSnapshotCleanup(postCleanup('{}'), invocation('runSnapshotCleanup').context);
    return { ...response, jsonBody: response.jsonBody as Record<string, unknown> };
  }

  async function appliance(...args: Parameters<typeof startAppliance>) {
    const handle = await startAppliance(...args);
    appliances.push(handle);
    return handle;
  }

  it.each<[RunFailure['kind'], string, () => Promise<Record<string, string>>]>([
    [
      'auth',
      'urn:veeam-snapshot-cleanup:problem:appliance-login-refused',
      async () => settingsFor(await appliance({ vms: vms(2) }), ids, { VEEAM_PASSWORD: WRONG_PASSWORD }),
    ],
    [
      'mfa',
      'urn:veeam-snapshot-cleanup:problem:appliance-mfa-required',
      async () => settingsFor(await appliance({ vms: vms(2), users: [{ ...USER, mfa: true }] }), ids),
    ],
    [
      'tls',
      'urn:veeam-snapshot-cleanup:problem:appliance-tls-untrusted',
      async () => settingsFor(await appliance({ vms: vms(2), tls: await selfSignedCert() }), ids),
    ],
    [
      'unreachable',
      'urn:veeam-snapshot-cleanup:problem:appliance-unreachable',
      async () => ({
        VEEAM_URL: `http://127.0.0.1:${await closedPort()}`,
        VEEAM_USERNAME: USER.username,
        VEEAM_PASSWORD: USER.password,
        VEEAM_VM_IDS: ids.join(','),
      }),
    ],
  ])('answers 502 problem+json naming the failure kind %s, with the report', async (kind, type, env) => {
    const response = await post(await env());
    expect(response.status).toBe(502);
    expect((response.headers as Record<string, string>)['content-type']).toBe('application/problem+json');
    expect(response.jsonBody).toMatchObject({ status: 502, type, failureKind: kind });
    expect(response.jsonBody.title).not.toBe('Bad Gateway');
    const report = response.jsonBody.report as Report;
    expect(report.failure?.kind).toBe(kind);
    expect(report.results.map((r) => [r.vmId, r.outcome])).toEqual([
      ['vm-001', 'Skipped'],
      ['vm-002', 'Skipped'],
    ]);
    const text = JSON.stringify(response.jsonBody);
    expect(text).not.toContain(USER.password);
    expect(text).not.toContain(WRONG_PASSWORD);
  });

  it('still answers 200 when the appliance was used, even if a VM failed', async () => {
    const handle = await appliance({ vms: [{ id: 'vm-001', sessionDurationMs: 20, outcome: 'Error' }] });
    const response = await post(settingsFor(handle, ['vm-001']));
    expect(response.status).toBe(200);
    expect((response.jsonBody as unknown as Report).results[0].outcome).toBe('Failed');
  });
});
