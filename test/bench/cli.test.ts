import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The bench's command line, run as the user runs it: a child process of bench/run.ts (from sources,
// through ts-register), with the network guard loaded in it and in every child it forks.
const REPO = path.resolve(__dirname, '../..');
const PRELOAD = ['test/support/ts-register.js', 'test/support/network-guard.js'].flatMap((f) => [
  '-r',
  path.join(REPO, f),
]);

function bench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...PRELOAD, path.join(REPO, 'bench/run.ts'), ...args], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const STACK_LINE = /^\s+at /m;
// Children load the sources through ts-register; on a cold cache and a busy machine that takes a while.
jest.setTimeout(120_000);

describe('bench command line', () => {
  it('--help prints every flag, mode and size and exits 0', async () => {
    const { code, stdout, stderr } = await bench(['--help']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    for (const flag of ['--only', '--sizes', '--faults', '--repeat', '--storage', '--output', '--help']) {
      expect(stdout).toContain(flag);
    }
    for (const mode of ['v1', 'v8.1', 'batch', 'retention', 'cap64']) expect(stdout).toContain(mode);
    expect(stdout).toContain('300, 3000, 10000');
  });

  it('an unknown flag is a usage error on stderr: exit 2, the flag named, no stack trace', async () => {
    const { code, stdout, stderr } = await bench(['--sizez', '300']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('--sizez');
    expect(stderr).toContain('--help');
    expect(stderr).not.toMatch(STACK_LINE);
  });

  it.each([['0'], ['three'], ['2.5'], ['21']])(
    '--repeat %s is a usage error naming --repeat',
    async (value) => {
      const { code, stderr } = await bench(['--repeat', value, '--only', 'v1']);
      expect(code).toBe(2);
      expect(stderr).toContain('--repeat');
      expect(stderr).not.toMatch(STACK_LINE);
    },
  );

  it('an unknown mode is a usage error that lists the modes', async () => {
    const { code, stderr } = await bench(['--only', 'v2']);
    expect(code).toBe(2);
    expect(stderr).toContain('--only');
    expect(stderr).toContain('retention');
    expect(stderr).not.toMatch(STACK_LINE);
  });

  it('a selection runs, repeats, prints the minimum and median, and writes no Markdown', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-cli-'));
    const output = path.join(dir, 'BENCHMARKS.md');
    const committed = fs.readFileSync(path.join(REPO, 'BENCHMARKS.md'), 'utf8');
    try {
      const { code, stdout, stderr } = await bench([
        ...['--only', 'batch', '--sizes', '12', '--faults', 'clean', '--repeat', '2'],
        ...['--session-ms', '50-150', '--no-baseline', '--no-cold', '--no-package', '--output', output],
      ]);
      expect({ code, stderr }).toMatchObject({ code: 0 });
      expect(stderr).toContain('batch · 12 · clean (run 1/2)');
      expect(stderr).toContain('batch · 12 · clean (run 2/2)');
      expect(stdout).toMatch(/\| batch · 12 · clean +\| +2 \|/);
      expect(stdout).toContain('efficiency min');
      expect(stdout).toContain('peak RSS MB min');
      expect(fs.existsSync(output)).toBe(false);
      expect(fs.readFileSync(path.join(REPO, 'BENCHMARKS.md'), 'utf8')).toBe(committed);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
