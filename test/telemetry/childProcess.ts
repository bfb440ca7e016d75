import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../..');
const GUARD = path.join(REPO, 'test/support/network-guard.js');
const RUNNERS = {
  telemetry: path.join(__dirname, 'child/run-telemetry.js'),
  engine: path.join(__dirname, 'child/run-engine.js'),
  fromEnv: path.join(__dirname, 'child/run-from-env.js'),
};

export interface ChildRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Non-loopback connection attempts the network guard recorded in the child. */
  guardLog: string;
}

/**
 * Runs child/run-telemetry.js with the environment the Functions host would give it, minus everything that
 * would leave the machine: statsbeat, live metrics and resource detection off, the guard preloaded.
 */
export async function runTelemetryChild(input: {
  ingestionUrl: string;
  caFile: string;
  canary: string;
  traceParent: string;
  flushTimeoutMs: number;
  /** Which child: the telemetry module driven directly (default), a whole engine run, or createTelemetryFromEnv. */
  runner?: keyof typeof RUNNERS;
  /** Extra settings for the child (e.g. APPLICATIONINSIGHTS_AUTHENTICATION_STRING, IDENTITY_ENDPOINT). */
  env?: Record<string, string>;
}): Promise<ChildRun> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'telemetry-child-'));
  const guardFile = path.join(tmp, 'guard.log');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // Offline storage of failed batches goes under os.tmpdir(): keep it per test.
    TMPDIR: tmp,
    NODE_EXTRA_CA_CERTS: input.caFile,
    NODE_OPTIONS: `--require ${GUARD}`,
    NETWORK_GUARD_LOG: guardFile,
    APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-1111-2222-3333-444444444444;IngestionEndpoint=${input.ingestionUrl}`,
    APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
    APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
    APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
    OTEL_NODE_RESOURCE_DETECTORS: 'none',
    OTEL_TRACES_SAMPLER: 'always_on',
    FUNCTIONS_EXTENSION_VERSION: '~4',
    WEBSITE_SITE_NAME: 'test',
    ...input.env,
  };
  const { canary, traceParent, flushTimeoutMs } = input;
  const child = spawn(
    process.execPath,
    [RUNNERS[input.runner ?? 'telemetry'], JSON.stringify({ canary, traceParent, flushTimeoutMs })],
    {
      env,
      cwd: REPO,
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const guardLog = fs.existsSync(guardFile) ? fs.readFileSync(guardFile, 'utf8') : '';
  fs.rmSync(tmp, { recursive: true, force: true });
  return { code, stdout, stderr, guardLog };
}
