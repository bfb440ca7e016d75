/**
 * Drives the engine exactly as the CLI does: startRun with trigger 'cli' and settings in `env`. The
 * client keeps its default poll schedule unless a caller (the smoke test) overrides it.
 */
import { startRun, type StartRunOptions } from '../shared/cleanup';
import { DEFAULT_USER } from '../dev/simulator';
import type { Outcome } from '../shared/report';
import { STORAGE_SETTING } from '../shared/runs/storage';
import type { Mode } from './scenarios';

export interface EngineRunOptions {
  url: string;
  vmIds: readonly string[];
  mode: Mode;
  /** AzureWebJobsStorage (a connection string to Azurite): the run takes the lease and writes the ledger. */
  storage?: string;
  /** Test seam; the benchmark leaves it out so the client's defaults are measured. */
  client?: StartRunOptions['client'];
  /** The whole environment instead of engineEnv's (the policy scenarios). */
  env?: Record<string, string>;
}

export interface EngineRunResult {
  wallMs: number;
  outcomes: Partial<Record<Outcome, number>>;
  /** Results in the report (each target must appear exactly once). */
  results: number;
  distinctVms: number;
  apiVersion: string | null;
}

export function engineEnv(
  options: Pick<EngineRunOptions, 'url' | 'vmIds' | 'mode' | 'storage'>,
): Record<string, string> {
  return {
    VEEAM_URL: options.url,
    VEEAM_USERNAME: DEFAULT_USER.username,
    VEEAM_PASSWORD: DEFAULT_USER.password,
    VEEAM_VM_IDS: options.vmIds.join(','),
    VEEAM_API_VERSION: options.mode === 'v1' ? 'v1' : 'v8.1',
    CLEANUP_BATCH: options.mode === 'batch' ? 'true' : 'false',
    ...(options.mode === 'retention' ? { CLEANUP_MIN_AGE: 'P7D', CLEANUP_KEEP_LATEST: '1' } : {}),
    ...(options.mode === 'cap64' ? { CLEANUP_MAX_RUNNING_SESSIONS: '64' } : {}),
    ...(options.storage ? { [STORAGE_SETTING]: options.storage } : {}),
  };
}

export async function runEngine(options: EngineRunOptions): Promise<EngineRunResult> {
  const started = performance.now();
  const run = await startRun({
    trigger: 'cli',
    env: options.env ?? engineEnv(options),
    ...(options.client ? { client: options.client } : {}),
  });
  if (run.status !== 'completed') throw new Error(`the run did not start: ${run.status}`);
  const { report } = run;
  const wallMs = performance.now() - started;
  const outcomes: Partial<Record<Outcome, number>> = {};
  for (const r of report.results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  return {
    wallMs,
    outcomes,
    results: report.results.length,
    distinctVms: new Set(report.results.map((r) => r.vmId)).size,
    apiVersion: report.apiVersion,
  };
}
