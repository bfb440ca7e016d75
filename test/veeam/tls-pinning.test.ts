import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { makePki } from './pki';

const execFileAsync = promisify(execFile);

// The transport must not add the process's public roots next to a pinned CA. To prove it, this file makes
// another CA one of those "public" roots: a client that kept them would trust that CA's certificate.
const other = makePki();
jest.mock('node:tls', () => {
  const actual = jest.requireActual('node:tls');
  return { ...actual, rootCertificates: [...actual.rootCertificates, other.caCert] };
});

import { VeeamTlsError } from '../../shared/veeam/errors';
import { clientFor, closeAll, simulator } from './helpers';

afterEach(closeAll);

describe('TLS pinning and verification', () => {
  const pinned = makePki();

  it('with a CA configured, a certificate from another CA for the same hostname is refused', async () => {
    const impostor = await simulator({ tls: { cert: other.cert, key: other.key } });
    const error = await clientFor(impostor, { caCert: pinned.caCert })
      .connect()
      .catch((e) => e);
    expect(error).toBeInstanceOf(VeeamTlsError);

    const appliance = await simulator({ tls: { cert: pinned.cert, key: pinned.key } });
    await expect(clientFor(appliance, { caCert: pinned.caCert }).connect()).resolves.toEqual({
      apiVersion: 'v8.1',
    });
  });

  it('NODE_TLS_REJECT_UNAUTHORIZED=0 does not switch verification off', async () => {
    // Jest gives tests a copy of process.env, so the setting is tried where Node reads it: a child process.
    const sim = await simulator({ tls: { cert: pinned.cert, key: pinned.key } });
    const script = [
      "const { createVeeamClient } = require('./shared/veeam/client.ts');",
      "const c = createVeeamClient({ baseUrl: process.argv[1], username: 'u', password: 'p', apiVersion: 'v1' });",
      'c.connect().then(() => console.log("connected"), (e) => console.log(e.name)).finally(() => c.close());',
    ].join('\n');
    const { stdout } = await execFileAsync(
      process.execPath,
      ['-r', './test/support/ts-register.js', '-e', script, sim.url],
      { cwd: path.join(__dirname, '../..'), env: { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0' } },
    );
    expect(stdout.trim()).toBe('VeeamTlsError');
    expect(sim.counters.tokensIssued.password).toBe(0);
  }, 90_000);
});
