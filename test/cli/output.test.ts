import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SimulatorHandle } from '../../dev/simulator';
import type { Report } from '../../shared/report';
import { DISPLAY_ID_MAX } from '../../shared/displayId';
import { startAppliance, USER, vms } from '../support/engine';
import { CLI_TEST_TIMEOUT_MS, runCli } from './runCli';

jest.setTimeout(CLI_TEST_TIMEOUT_MS);

const ESCAPE_ID = 'vm-\u001b]0;owned\u0007\u001b[2J';
const ESCAPED = 'vm-\\x1b]0;owned\\x07\\x1b[2J';
const HUGE_ID = `huge-${'a'.repeat(3 * 1024 * 1024)}`;

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cli-output-'));
}

describe('CLI output', () => {
  let appliance: SimulatorHandle;
  beforeAll(async () => {
    appliance = await startAppliance({
      vms: [...vms(2), { id: 'vm-warn', sessionDurationMs: 30, outcome: 'Warning' as const }],
    });
  });
  afterAll(() => appliance.close());
  beforeEach(() => appliance.resetCounters());

  const settings = (): Record<string, string> => ({
    VEEAM_URL: appliance.url,
    VEEAM_USERNAME: USER.username,
    VEEAM_PASSWORD: USER.password,
  });

  it('exits 5 with a clear message when the reader closed stdout (EPIPE), after the run', async () => {
    const run = await runCli(['run', '--vm', 'vm-001', '--json'], settings(), {
      onSpawn: (child) => child.stdout?.destroy(),
    });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain(
      'snapshot-cleanup: the report could not be written to stdout (EPIPE: the reader closed the pipe); ' +
        'the run itself finished:\nRun ',
    );
    expect(run.stderr).toMatch(/1 target\(s\), 1 succeeded/);
    expect(run.stderr).not.toMatch(/^\s+at /m); // no stack trace
    expect(appliance.counters.deleteCallsByVm).toEqual({ 'vm-001': 1 });
  });

  it('exits 5 with a clear message when stdout is a full disk (ENOSPC)', async () => {
    const full = fs.openSync('/dev/full', 'w');
    try {
      const run = await runCli(['run', '--vm', 'vm-002'], settings(), { stdout: full });
      expect(run.code).toBe(5);
      expect(run.stderr).toContain('(ENOSPC: no space left on the device)');
      expect(run.stderr).not.toMatch(/^\s+at /m);
    } finally {
      fs.closeSync(full);
    }
  });

  it.each([
    ['1', '1 s'],
    ['PT2S', '2 s'],
  ])('refuses --deadline %s as a usage error, printed as a JSON problem with --json', async (deadline) => {
    const run = await runCli(['run', '--vm', 'vm-001', '--deadline', deadline, '--json'], settings());
    expect(run.code).toBe(2);
    const problem = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(problem).toEqual({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: expect.stringMatching(/^--deadline: leaves \d s, and a run submits nothing in its last 1 s/),
      flag: '--deadline',
      exitCode: 2,
    });
    expect(run.stderr).toContain(`snapshot-cleanup: ${String(problem.detail)}`);
    expect(appliance.counters.requestsByRoute).toEqual({});
  });

  it('prints a configuration error as a JSON problem naming the flag and its source', async () => {
    const run = await runCli(['run', '--vm', 'vm-001', '--max-running-sessions', '0', '--json'], settings());
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      type: 'about:blank',
      title: 'Configuration Error',
      status: 500,
      detail: '--max-running-sessions (command line): must be at least 1',
      setting: '--max-running-sessions',
      source: 'command line',
      exitCode: 2,
    });
    expect(run.stderr).toContain('configuration error: --max-running-sessions (command line)');
    expect(run.stdout + run.stderr).not.toContain(USER.password);
    expect(appliance.counters.requestsByRoute).toEqual({});
  });

  it('shows Warning text and escaped, cut invalid ids in the table, and writes telemetry only to its file', async () => {
    const dir = tempDir();
    const big = path.join(dir, 'big.txt');
    fs.writeFileSync(big, `${HUGE_ID}\n`);
    const telemetryFile = path.join(dir, 'telemetry.jsonl');
    const run = await runCli(
      [
        'run',
        '--vm',
        'vm-001',
        '--vm',
        'vm-warn',
        '--vm',
        ESCAPE_ID,
        '--vm-file',
        big,
        '--log-telemetry',
        telemetryFile,
      ],
      settings(),
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^vm-warn\s+Warning\s+\S+\s+\d+(\.\d)? m?s\s+Removed \d manual snapshot\(s\) of virtual machine '[^']+' with warnings: one snapshot was already deleted in Azure$/m,
    );
    expect(run.stdout.split('\n').find((l) => l.startsWith(`${ESCAPED} `))).toMatch(/^\S+\s+InvalidId\s/);
    expect(run.stdout).toMatch(/^huge-a+…\s+InvalidId/m);
    const lines = fs.readFileSync(telemetryFile, 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(JSON.parse(line)).toHaveProperty('type');
    expect(run.stderr).not.toContain('{"time"');
    for (const text of [run.stdout, run.stderr, lines.join('\n')]) {
      expect(text).not.toContain('\u001b');
      expect(text).not.toContain('a'.repeat(DISPLAY_ID_MAX));
      expect(text).not.toContain(USER.password);
    }
    expect(appliance.counters.deleteCallsByVm).toEqual({ 'vm-001': 1, 'vm-warn': 1 });
  });

  it('reports invalid ids escaped and cut in the JSON report', async () => {
    const big = path.join(tempDir(), 'big.txt');
    fs.writeFileSync(big, HUGE_ID);
    const run = await runCli(['run', '--vm', ESCAPE_ID, '--vm-file', big, '--json'], settings());
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.results).toEqual([
      expect.objectContaining({ vmId: ESCAPED, outcome: 'InvalidId' }),
      expect.objectContaining({ vmId: expect.stringMatching(/^huge-a+…$/), outcome: 'InvalidId' }),
    ]);
    expect(report.results[1].vmId.length).toBe(DISPLAY_ID_MAX + 1);
    expect(run.stdout.length).toBeLessThan(10_000);
    expect(appliance.counters.requestsByRoute).toEqual({});
  });
});
