import { randomUUID } from 'node:crypto';
import { invalidateSecretCache, loadConfig, type CleanupConfig } from '../config';
import type { Report } from '../report';
import {
  createTelemetryFromEnv,
  operationFromTraceParent,
  reportToTelemetry,
  withRunContext,
  type Telemetry,
} from '../telemetry';
import { runCleanup } from './runCleanup';
import type { RunCleanupOptions } from './types';

export interface ExecuteCleanupOptions extends Omit<RunCleanupOptions, 'config' | 'telemetry'> {
  /** Settings to read (default process.env). */
  env?: Record<string, string | undefined>;
  /** A configuration the caller already loaded (the HTTP trigger checks its allow-list first). */
  config?: CleanupConfig;
  /** default: App Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set, otherwise `fallbackTelemetry`. */
  telemetry?: Telemetry;
  /** Used when no connection string is set (default: none). */
  fallbackTelemetry?: () => Telemetry;
  /** The invocation's W3C traceparent, so the run's telemetry nests under the host's request. */
  traceParent?: string | null;
  /** Bound on the telemetry flush before returning (default 5 s). */
  flushTimeoutMs?: number;
}

/**
 * The one entry point every trigger uses (timer, HTTP, CLI, demo, benchmark): configuration → engine →
 * report → telemetry, flushed before returning. Configuration errors are recorded and rethrown before
 * anything touches the appliance.
 */
export async function executeCleanup(options: ExecuteCleanupOptions): Promise<Report> {
  const env = options.env ?? process.env;
  const runId = options.runId ?? randomUUID();
  const telemetry = withRunContext(
    options.telemetry ?? createTelemetryFromEnv(env, options.fallbackTelemetry ?? createNullTelemetry),
    { runId, trigger: options.trigger, ...operationFromTraceParent(options.traceParent) },
  );
  try {
    const config = options.config ?? (await loadConfig({ env }));
    const report = await runCleanup({ ...options, config, telemetry, runId });
    // Rejected credentials may have been rotated in the vault: the next run reads them again.
    if (report.failure?.kind === 'auth') invalidateSecretCache();
    reportToTelemetry(report, telemetry);
    return report;
  } catch (error) {
    telemetry.trackException(error instanceof Error ? error : new Error(String(error)));
    throw error;
  } finally {
    await telemetry.flush(options.flushTimeoutMs ?? 5_000);
  }
}

function createNullTelemetry(): Telemetry {
  return {
    trackEvent: () => {},
    trackMetric: () => {},
    trackException: () => {},
    trackDependency: () => {},
    flush: async () => {},
  };
}
