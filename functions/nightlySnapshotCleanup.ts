import { randomUUID } from 'node:crypto';
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { tryAcquireRun } from '../shared/admin/runLock';
import { executeCleanup } from '../shared/cleanup';
import { loadConfig } from '../shared/config';
import { loggerFor } from '../shared/hosting/invocation';
import { findHostJson, timeBudgetMs } from '../shared/hosting/timeBudget';

/**
 * The nightly run. It fails the invocation only when nothing was attempted (configuration, Key Vault or
 * appliance unavailable, or an admin run in progress), so the host's retry can never re-delete a VM.
 */
export async function nightlySnapshotCleanup(timer: Timer, context: InvocationContext): Promise<void> {
  const startedAt = Date.now();
  context.log(
    `Nightly snapshot cleanup starting (isPastDue=${timer.isPastDue}, retry=${context.retryContext?.retryCount ?? 0})`,
  );
  const config = await loadConfig();
  const budget = timeBudgetMs({
    configuredMs: config.timeBudgetMs,
    hostJsonPath: findHostJson(__dirname),
    log: (message) => context.warn(message),
  });
  const deadline = startedAt + budget;
  const runId = randomUUID();
  const lock = tryAcquireRun(runId);
  if (!lock.acquired)
    throw new Error(`Another cleanup run (${lock.runningRunId}) is in progress on this instance`);
  try {
    const report = await executeCleanup({
      trigger: 'timer',
      runId,
      config,
      deadline,
      traceParent: context.traceContext?.traceParent,
      logger: loggerFor(context),
    });
    const t = report.totals;
    context.log(
      `Run ${report.runId}: ${t.succeeded} succeeded, ${t.warning} warning, ${t.failed} failed, ` +
        `${t.timedOut} timed out, ${t.skipped} skipped, ${t.invalid} invalid`,
    );
    if (report.failure) throw new Error(`Nothing was deleted: ${report.failure.message}`);
  } finally {
    lock.release();
  }
}

app.timer('nightlySnapshotCleanup', {
  schedule: '%CLEANUP_SCHEDULE%',
  runOnStartup: false,
  retry: { strategy: 'fixedDelay', maxRetryCount: 2, delayInterval: { minutes: 5 } },
  handler: nightlySnapshotCleanup,
});
