/**
 * Cold start: the time to require what the host loads (every function module, or the one bundle) in a fresh
 * process with telemetry configured (a valid-looking connection string aimed at 127.0.0.1, statsbeat, live
 * metrics and resource detectors off).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { NETWORK_GUARD } from './ipc';
import { functionModules } from './package';
import { median } from './scenario';

/** The compiled function modules that package.json `main` (dist/functions/*.js) makes the host load. */
export function unbundledEntries(root: string): string[] {
  return functionModules(root).map((file) => path.join('dist', file.replace(/\.ts$/, '.js')));
}

export const COLD_START_ENV: Record<string, string> = {
  APPLICATIONINSIGHTS_CONNECTION_STRING:
    'InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=http://127.0.0.1:9/;LiveEndpoint=http://127.0.0.1:9/',
  APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
  APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
  APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
  OTEL_NODE_RESOURCE_DETECTORS: 'none',
  FUNCTIONS_EXTENSION_VERSION: '~4',
  WEBSITE_SITE_NAME: 'bench',
};

export interface ColdStartResult {
  /** What was required, for the report. */
  entry: string;
  samplesMs: number[];
  medianMs: number;
}

/**
 * Median over `runs` fresh processes of the time requiring `entries` (relative to `root`, or absolute) takes,
 * measured inside the child; its cwd is the app root: `root`, or the folder of an absolute entry.
 */
export function measureColdStart(
  root: string,
  runs = 10,
  entries: string[] = unbundledEntries(root),
): ColdStartResult {
  const files = entries.map((entry) => path.resolve(root, entry));
  const requires = files.map((file) => `require(${JSON.stringify(file)});`).join('');
  const script =
    `const t=process.hrtime.bigint();${requires}` +
    `process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));process.exit(0);`;
  const label = (file: string) =>
    path.isAbsolute(file) ? path.join(path.basename(path.dirname(file)), path.basename(file)) : file;
  const entry = entries.length === 1 ? label(entries[0]) : `${path.dirname(entries[0])}/*.js`;
  const samplesMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['--require', NETWORK_GUARD, '-e', script], {
      cwd: path.isAbsolute(entries[0]) ? path.dirname(files[0]) : root,
      env: { PATH: process.env.PATH ?? '', ...COLD_START_ENV },
      encoding: 'utf8',
      // The functions library notes on stderr that it is not inside a host; only the timing matters here.
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 30_000,
    });
    samplesMs.push(Number(out.trim()));
  }
  return { entry, samplesMs, medianMs: median(samplesMs) };
}
