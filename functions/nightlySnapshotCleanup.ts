import { app, type InvocationContext, type Timer } from '@azure/functions';
import { startRun } from '../shared/cleanup';
import { loggerFor } from '../shared/hosting/invocation';
import { invocationDeadline } from '../shared/hosting/timeBudget';

/**
 * The nightly run. It fails the invocation only when nothing was attempted (configuration, Key Vault,
 * storage or appliance unavailable, or another run holding the lease), so the host's retry can never
 * re-delete a VM; a run that a deploy or crash cut short is resumed by the next start.
 */
export async function nightlySnapshotCleanup(timer: Timer, context: InvocationContext): Promise<void> {
  const startedAt = Date.now();
  context.log(
    `Nightly snapshot cleanup starting (isPastDue=${timer.isPastDue}, retry=${context.retryContext?.retryCount ?? 0})`,
  );
  const started = await startRun({
    trigger: 'timer',
    deadlineFor: invocationDeadline(startedAt, __dirname, (message) => context.warn(message)),
    traceParent: context.traceContext?.traceParent,
    logger: loggerFor(context),
  });
  if (started.status === 'busy') {
    throw new Error(
      `Another cleanup run (${started.holderRunId}) holds the lease; the retry comes back later`,
    );
  }
  if (started.status !== 'completed') throw new Error('The run was refused');
  const { report } = started;
  const t = report.totals;
  context.log(
    `Run ${report.runId}: ${t.succeeded} succeeded, ${t.warning} warning, ${t.failed} failed, ` +
      `${t.timedOut} timed out, ${t.skipped} skipped, ${t.invalid} invalid`,
  );
  if (report.failure) throw new Error(`Nothing was deleted: ${report.failure.message}`);
}

app.timer('nightlySnapshotCleanup', {
  schedule: '%CLEANUP_SCHEDULE%',
  runOnStartup: false,
  retry: { strategy: 'fixedDelay', maxRetryCount: 2, delayInterval: { minutes: 5 } },
  handler: nightlySnapshotCleanup,
});
