import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SimulatorHandle } from '../../dev/simulator';
import type { Report } from '../../shared/report';
import { startAppliance, USER, vms } from '../support/engine';
import { CLI_TEST_TIMEOUT_MS, runCli, type CliRun } from './runCli';

jest.setTimeout(CLI_TEST_TIMEOUT_MS);

describe('snapshot-cleanup CLI', () => {
  let appliance: SimulatorHandle;
  const fleet = [
    ...vms(3),
    { id: 'vm-err', sessionDurationMs: 30, outcome: 'Error' as const },
    { id: 'vm-slow', sessionDurationMs: 120_000 },
  ];
  beforeAll(async () => {
    appliance = await startAppliance({ vms: fleet });
  });
  afterAll(() => appliance.close());

  const base = (): Record<string, string> => ({
    VEEAM_PASSWORD: USER.password,
    VEEAM_USERNAME: USER.username,
  });
  const noSecrets = (run: CliRun): void => {
    expect(run.stdout + run.stderr).not.toContain(USER.password);
  };

  it('exits 0 and prints only the report with --json when every target succeeded', async () => {
    const run = await runCli(
      ['run', '--appliance-url', appliance.url, '--vm', 'vm-001', '--vm', 'vm-002', '--json'],
      base(),
    );
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.trigger).toBe('cli');
    expect(report.results.map((r) => [r.vmId, r.outcome])).toEqual([
      ['vm-001', 'Succeeded'],
      ['vm-002', 'Succeeded'],
    ]);
    expect(run.stderr).toMatch(/\[2\/2\] vm-00\d Succeeded/);
    noSecrets(run);
  });

  it('reads targets from --vm-file and prints a summary table without --json', async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-')), 'vms.json');
    fs.writeFileSync(file, JSON.stringify(['vm-003', 'vm-003']));
    const run = await runCli(['run', '--vm-file', file], { ...base(), VEEAM_URL: appliance.url });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^VM\s+OUTCOME\s+SESSION\s+DURATION/m);
    expect(run.stdout).toMatch(/vm-003\s+Succeeded/);
    expect(run.stdout).toContain('1 duplicate id(s) merged');
  });

  it('exits 1 when a target failed, and reports it', async () => {
    const run = await runCli(['run', '--appliance-url', appliance.url, '--vm', 'vm-err', '--json'], base());
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.results[0]).toMatchObject({ vmId: 'vm-err', outcome: 'Failed', sessionStatus: 'Error' });
  });

  it('exits 1 with InvalidId for a malformed id', async () => {
    const run = await runCli(['run', '--appliance-url', appliance.url, '--vm', 'bad/id', '--json'], base());
    expect(run.code).toBe(1);
    expect((JSON.parse(run.stdout) as Report).results[0].outcome).toBe('InvalidId');
  });

  it('lists without deleting on --dry-run and exits 0', async () => {
    appliance.resetCounters();
    const run = await runCli(
      ['run', '--appliance-url', appliance.url, '--vm', 'vm-slow', '--dry-run', '--json'],
      base(),
    );
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as Report).results[0].outcome).toBe('WouldDelete');
    expect(appliance.counters.deleteCallsByVm).toEqual({});
  });

  it.each([
    ['an unknown flag', ['run', '--force']],
    ['a password flag', ['run', '--password', 'x']],
    ['a missing command', []],
  ])('exits 2 for %s', async (_name, args) => {
    const run = await runCli(args, base());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: snapshot-cleanup run');
  });

  it('exits 2 naming the setting when the configuration is incomplete, and contacts nothing', async () => {
    appliance.resetCounters();
    const run = await runCli(['run', '--vm', 'vm-001'], {
      VEEAM_PASSWORD: USER.password,
      VEEAM_URL: appliance.url,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('VEEAM_USERNAME');
    expect(appliance.counters.requestsByRoute).toEqual({});
    noSecrets(run);
  });

  it('exits 3 when the appliance rejects the login, deleting nothing', async () => {
    appliance.resetCounters();
    const run = await runCli(['run', '--appliance-url', appliance.url, '--vm', 'vm-001', '--json'], {
      ...base(),
      VEEAM_PASSWORD: 'CANARY-wrong-password',
    });
    expect(run.code).toBe(3);
    expect((JSON.parse(run.stdout) as Report).failure?.kind).toBe('auth');
    expect(run.stdout + run.stderr).not.toContain('CANARY-wrong-password');
    expect(appliance.counters.deleteCallsByVm).toEqual({});
  });

  it('exits 3 when nothing listens at the appliance URL', async () => {
    const run = await runCli(['run', '--appliance-url', 'http://127.0.0.1:9', '--vm', 'vm-001'], base());
    expect(run.code).toBe(3);
  });

  it('on SIGINT stops and still prints the report, with the running session TimedOut', async () => {
    const run = await runCli(['run', '--appliance-url', appliance.url, '--vm', 'vm-slow', '--json'], base(), {
      onStderr: (stderr, child) => {
        if (stderr.includes('Connected to appliance')) setTimeout(() => child.kill('SIGINT'), 1500);
      },
    });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.results[0]).toMatchObject({ vmId: 'vm-slow', outcome: 'TimedOut' });
    expect(report.results[0].sessionId).toBeTruthy();
  });

  it('documents every option and exit code in --help', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const flag of [
      '--appliance-url',
      '--username',
      '--api-version',
      '--vm',
      '--vm-file',
      '--key-vault-url',
      '--concurrency',
      '--max-session-wait',
      '--deadline',
      '--dry-run',
      '--batch',
      '--ca-file',
      '--json',
      '--max-running-sessions',
      '--log-telemetry <file>',
      '--min-age',
      '--keep-latest',
      '--storage',
      '--policy <file>',
      '--appliance <name>',
    ]) {
      expect(run.stdout).toContain(flag);
    }
    expect(run.stdout).toMatch(/^ {2}3 {2}could not reach/m);
    expect(run.stdout).toMatch(/^ {2}4 {2}another cleanup run holds the lease/m);
    expect(run.stdout).toMatch(/^ {2}5 {2}the run finished but its report could not be written to stdout/m);
  });
});

describe('snapshot-cleanup CLI under load', () => {
  it('many retry waits at once on the run signal print no listener-leak warning', async () => {
    const fleet = vms(16, {}, 'rw');
    // Every first delete is answered 429 Retry-After: 1, so all 16 workers wait out a retry together.
    const appliance = await startAppliance({
      vms: fleet,
      faults: [
        { route: 'v8.1.deleteManualSnapshots', kind: 'status', status: 429, retryAfter: '1', times: 16 },
      ],
    });
    try {
      const run = await runCli(['run', '--appliance-url', appliance.url, '--json'], {
        VEEAM_PASSWORD: USER.password,
        VEEAM_USERNAME: USER.username,
        VEEAM_VM_IDS: fleet.map((vm) => vm.id).join(','),
        CLEANUP_CONCURRENCY: '16',
      });
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as Report;
      expect(report.totals.succeeded).toBe(16);
      expect(report.results.every((r) => r.attempts === 2)).toBe(true);
      expect(run.stderr).not.toMatch(/MaxListenersExceededWarning|memory leak/);
    } finally {
      await appliance.close();
    }
  });
});
