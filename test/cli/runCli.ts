import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../..');
const CLI = path.join(REPO, 'shared/cli/main.ts');
const PRELOAD = ['test/support/ts-register.js', 'test/support/network-guard.js'].map((f) =>
  path.join(REPO, f),
);

/**
 * The child transpiles the sources on start, which takes tens of seconds on a loaded machine; this bounds
 * each CLI test, not the CLI.
 */
export const CLI_TEST_TIMEOUT_MS = 180_000;

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  /** Text for the child's stdin (default: none, stdin closed). */
  stdin?: string;
  /** The child's stdout, when it is not to be captured (a file descriptor such as /dev/full). */
  stdout?: number;
  /** Called with the stderr so far on each chunk (e.g. to signal the child). */
  onStderr?: (text: string, child: ChildProcess) => void;
  /** Called once the child is started (e.g. to close the reading end of its stdout). */
  onSpawn?: (child: ChildProcess) => void;
}

/** Runs `snapshot-cleanup` as a child process, the way an admin would. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  options: RunCliOptions = {},
): Promise<CliRun> {
  const stdio: StdioOptions = [
    options.stdin === undefined ? 'ignore' : 'pipe',
    options.stdout ?? 'pipe',
    'pipe',
  ];
  const child = spawn(process.execPath, [...PRELOAD.flatMap((p) => ['--require', p]), CLI, ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio,
  });
  let stdout = '';
  let stderr = '';
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
    options.onStderr?.(stderr, child);
  });
  options.onSpawn?.(child);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
