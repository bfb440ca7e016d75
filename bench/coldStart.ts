/**
 * Cold start: the time to require the functions entry module in a fresh process with telemetry configured
 * (a valid-looking connection string aimed at 127.0.0.1, statsbeat, live metrics and resource detectors off).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { NETWORK_GUARD } from './ipc';
import { median } from './scenario';

export const ENTRY_MODULE = 'dist/functions/runSnapshotCleanup.js';

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
  entry: string;
  samplesMs: number[];
  medianMs: number;
}

/** Median over `runs` fresh processes of the time `require(entry)` takes, measured inside the child. */
export function measureColdStart(root: string, runs = 10, entry = ENTRY_MODULE): ColdStartResult {
  const script =
    `const t=process.hrtime.bigint();require(${JSON.stringify(path.join(root, entry))});` +
    `process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6));process.exit(0);`;
  const samplesMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['--require', NETWORK_GUARD, '-e', script], {
      cwd: root,
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
