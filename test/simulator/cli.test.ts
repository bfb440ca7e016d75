import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseCliArgs, runCli } from '../../dev/simulator/cli';
import { ConfigError } from '../../shared/errors';
import { call, httpsGet, login, selfSignedCert } from './helpers';

describe('simulator command line', () => {
  it('starts the fleet it is told to and prints its URL and the demo credentials', async () => {
    let output = '';
    const sim = await runCli(
      ['--port', '0', '--vms', '3', '--seed', '2', '--id-style', 'uuid'],
      (t) => (output += t),
    );
    try {
      expect(sim).toBeDefined();
      expect(output).toContain(sim!.url);
      expect(output).toContain('username veeam-admin');
      const token = await login(sim!);
      const vms = await call(`${sim!.url}/api/v8.1/virtualMachines`, { token });
      expect(vms.json.totalCount).toBe(3);
      expect(vms.json.results[0].id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await sim?.close();
    }
  });

  it('serves https from --tls-cert/--tls-key files', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sim-cli-'));
    const { cert, key } = await selfSignedCert();
    writeFileSync(path.join(dir, 'cert.pem'), cert);
    writeFileSync(path.join(dir, 'key.pem'), key);
    const args = [
      '--port',
      '0',
      '--tls-cert',
      path.join(dir, 'cert.pem'),
      '--tls-key',
      path.join(dir, 'key.pem'),
    ];
    const sim = await runCli(args, () => undefined);
    try {
      expect(sim!.url.startsWith('https://')).toBe(true);
      expect((await httpsGet(`${sim!.url}/api/v8.1/system/serviceIsUp`, cert)).status).toBe(200);
    } finally {
      await sim?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maps every option onto the simulator options', () => {
    expect(
      parseCliArgs([
        '--port',
        '8443',
        '--vms',
        '10000',
        '--seed',
        '5',
        '--session-ms',
        '5000-20000',
        '--latency-ms',
        '5',
        '--warning-rate',
        '0.1',
        '--error-rate',
        '0.05',
        '--versions',
        'v8.1',
      ]),
    ).toEqual({
      port: 8443,
      host: '127.0.0.1',
      fleet: { count: 10000, idStyle: 'v1' },
      seed: 5,
      sessionDurationMs: { min: 5000, max: 20000 },
      outcomes: { warning: 0.1, error: 0.05 },
      latencyMs: 5,
      versions: ['v8.1'],
      tls: undefined,
    });
    expect(parseCliArgs(['--help'])).toBe('help');
  });

  it.each([
    [['--vms', '0'], '--vms'],
    [['--port', 'x'], '--port'],
    [['--error-rate', '2'], '--error-rate'],
    [['--versions', 'v2'], '--versions'],
    [['--id-style', 'guid'], '--id-style'],
    [['--tls-cert', 'only.pem'], '--tls-cert/--tls-key'],
    [['--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem'], '--tls-cert'],
  ])('rejects %j naming %s', (args, setting) => {
    expect(() => parseCliArgs(args)).toThrow(ConfigError);
    expect(() => parseCliArgs(args)).toThrow(expect.objectContaining({ setting }));
  });

  it('rejects unknown options', () => {
    expect(() => parseCliArgs(['--vm', '3'])).toThrow(/Unknown option/);
  });
});
