import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SimulatorHandle } from '../../dev/simulator';
import { parseCliArgs, runCli } from '../../dev/simulator/cli';
import { parseFaultArg } from '../../dev/simulator/faultArg';
import { ConfigError } from '../../shared/errors';
import { call, httpsGet, login, selfSignedCert, tokenRequest } from './helpers';

const grant = (sim: SimulatorHandle, user = sim.credentials) =>
  tokenRequest(sim, { grant_type: 'Password', username: user.username, password: user.password });

const REPO = path.resolve(__dirname, '../..');

async function closeAll(handles: SimulatorHandle[] | undefined): Promise<void> {
  await Promise.all((handles ?? []).map((h) => h.close()));
}

/** Runs the simulator CLI as a child process (transpiled on the fly), the way a tester would. */
function runChild(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const preload = ['test/support/ts-register.js', 'test/support/network-guard.js'];
  const child = spawn(
    process.execPath,
    [...preload.flatMap((p) => ['--require', path.join(REPO, p)]), 'dev/simulator/cli.ts', ...args],
    { cwd: REPO, env: { PATH: process.env.PATH ?? '' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('simulator command line', () => {
  it('starts the fleet it is told to, with its controller VM, and prints its URL and credentials', async () => {
    let output = '';
    const sims = await runCli(
      ['--port', '0', '--vms', '3', '--seed', '2', '--id-style', 'uuid'],
      (t) => (output += t),
    );
    try {
      expect(sims).toHaveLength(1);
      const [sim] = sims!;
      expect(output).toContain(sim.url);
      expect(output).toContain('username veeam-admin, password veeam-password');
      expect(output).toContain('/_simulator/counters');
      const token = await login(sim);
      const vms = await call(`${sim.url}/api/v8.1/virtualMachines`, { token });
      expect(vms.json.totalCount).toBe(4);
      expect(vms.json.results.filter((vm: { isController: boolean }) => vm.isController)).toEqual([
        expect.objectContaining({ id: sim.controllerVmId, name: 'vbazure-appliance' }),
      ]);
      expect(vms.json.results[1].id).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await closeAll(sims);
    }
  });

  it('serves two appliances on two ports with different credentials', async () => {
    let output = '';
    const sims = await runCli(['--port', '0', '--appliances', '2', '--vms', '2'], (t) => (output += t));
    try {
      expect(sims).toHaveLength(2);
      const [first, second] = sims!;
      expect(first.url).not.toBe(second.url);
      expect(first.credentials).not.toEqual(second.credentials);
      for (const sim of sims!) {
        expect(output).toContain(
          `${sim.url}  username ${sim.credentials.username}, password ${sim.credentials.password}`,
        );
      }
      const own = await grant(second);
      expect(own.status).toBe(200);
      const foreign = await grant(second, first.credentials);
      expect(foreign.status).toBe(401);
      const ids = async (sim: SimulatorHandle) => {
        const token = (await grant(sim)).json.access_token;
        const page = await call(`${sim.url}/api/v8.1/virtualMachines`, { token });
        return page.json.results.map((vm: { id: string }) => vm.id);
      };
      const [a, b] = [await ids(first), await ids(second)];
      expect(a.filter((id: string) => b.includes(id))).toEqual([]);
    } finally {
      await closeAll(sims);
    }
  });

  it('applies --fault rules from the command line', async () => {
    const sims = await runCli(
      ['--port', '0', '--vms', '1', '--fault', 'v8.1.about:status=429', '--fault', '*:latency=1:1'],
      () => undefined,
    );
    try {
      const [sim] = sims!;
      const token = await login(sim);
      expect((await call(`${sim.url}/api/v8.1/system/about`, { token })).status).toBe(429);
      expect((await call(`${sim.url}/api/v8.1/virtualMachines`, { token })).status).toBe(200);
    } finally {
      await closeAll(sims);
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
    const sims = await runCli(args, () => undefined);
    try {
      expect(sims![0].url.startsWith('https://')).toBe(true);
      expect((await httpsGet(`${sims![0].url}/api/v8.1/system/serviceIsUp`, cert)).status).toBe(200);
    } finally {
      await closeAll(sims);
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
        '--appliances',
        '3',
        '--point-mix',
        '--deleted-rate',
        '0.2',
        '--name-prefixes',
        'app-,sql-,dc',
        '--no-controller',
        '--fault',
        'v8.1.deleteRestorePoint:vanish:0.5',
        '--fault',
        'v8.1.getVm:drop=after',
      ]),
    ).toEqual({
      appliances: 3,
      options: {
        port: 8443,
        host: '127.0.0.1',
        fleet: { count: 10000, idStyle: 'v1', namePrefixes: ['app-', 'sql-', 'dc'], deletedRate: 0.2 },
        controller: false,
        pointMix: {},
        faults: [
          { route: 'v8.1.deleteRestorePoint', kind: 'vanish', probability: 0.5 },
          { route: 'v8.1.getVm', kind: 'drop', phase: 'after' },
        ],
        seed: 5,
        sessionDurationMs: { min: 5000, max: 20000 },
        outcomes: { warning: 0.1, error: 0.05 },
        latencyMs: 5,
        versions: ['v8.1'],
        tls: undefined,
      },
    });
    expect(parseCliArgs(['--help'])).toBe('help');
    expect(parseCliArgs([])).toMatchObject({ appliances: 1, options: { port: 8443, controller: true } });
  });

  it.each([
    ['status', { route: '*', kind: 'status', status: 503 }],
    ['status=502', { route: '*', kind: 'status', status: 502 }],
    ['latency', { route: '*', kind: 'latency', latencyMs: 100 }],
    ['slow=20', { route: '*', kind: 'slow', delayMs: 20 }],
    ['drop', { route: '*', kind: 'drop', phase: 'before' }],
    ['malformedJson:0', { route: '*', kind: 'malformedJson', probability: 0 }],
    ['stuck', { route: '*', kind: 'stuck' }],
    ['foreignSelfLink', { route: '*', kind: 'foreignSelfLink' }],
  ])('parses the fault kind %s with its defaults', (kind, rule) => {
    expect(parseFaultArg(`*:${kind}`)).toEqual(rule);
  });

  it.each([
    [['--vms', '0'], '--vms'],
    [['--port', 'x'], '--port'],
    [['--port', '65536'], '--port'],
    [['--port', '99999999'], '--port'],
    [['--port', '65535', '--appliances', '2'], '--port'],
    [['--appliances', '0'], '--appliances'],
    [['--appliances', '17'], '--appliances'],
    [['--error-rate', '2'], '--error-rate'],
    [['--deleted-rate', '1.5'], '--deleted-rate'],
    [['--name-prefixes', 'a b'], '--name-prefixes'],
    [['--versions', 'v2'], '--versions'],
    [['--id-style', 'guid'], '--id-style'],
    [['--tls-cert', 'only.pem'], '--tls-cert/--tls-key'],
    [['--tls-cert', '/nonexistent/c.pem', '--tls-key', '/nonexistent/k.pem'], '--tls-cert'],
    [['--fault', 'v8.1.getVm'], '--fault'],
    [['--fault', 'v9.getVm:drop'], '--fault'],
    [['--fault', 'v8.1.getVm:explode'], '--fault'],
    [['--fault', 'v8.1.getVm:status=418'], '--fault'],
    [['--fault', 'v8.1.getVm:latency=soon'], '--fault'],
    [['--fault', 'v8.1.getVm:drop=middle'], '--fault'],
    [['--fault', 'v8.1.getVm:stuck=1'], '--fault'],
    [['--fault', 'v8.1.getVm:drop:1.5'], '--fault'],
    [['--fault', 'v8.1.getVm:drop:'], '--fault'],
  ])('rejects %j naming %s', (args, setting) => {
    expect(() => parseCliArgs(args)).toThrow(ConfigError);
    expect(() => parseCliArgs(args)).toThrow(expect.objectContaining({ setting }));
  });

  it('rejects unknown options', () => {
    expect(() => parseCliArgs(['--vm', '3'])).toThrow(/Unknown option/);
  });

  it('exits 2 with a usage message and no stack trace for an out-of-range port', async () => {
    const run = await runChild(['--port', '70000']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--port: must be an integer from 0 to 65535');
    expect(run.stderr).toContain('usage: simulator');
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe('');
  }, 120_000); // transpiling the simulator in the child takes long on a busy machine
});
