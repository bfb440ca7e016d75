import { app, type InvocationContext } from '@azure/functions';
import { closePoisonedRun } from '../shared/admin/backgroundRun';
import { sessionStatusUrl } from '../shared/admin/responses';
import { startRun } from '../shared/cleanup';
import { loggerFor } from '../shared/hosting/invocation';
import { invocationDeadline } from '../shared/hosting/timeBudget';
import { openRunStorage } from '../shared/runs/openStorage';
import { InvalidRunMessageError, parseRunMessage } from '../shared/runs/queue';

const QUEUE = 'snapshot-cleanup-runs';

/**
 * A background admin run, queued by POST /api/cleanup: it runs with the function's full time budget. An
 * invalid message is logged and dropped (never retried); a run that another one blocks fails the
 * invocation, so the host redelivers the message later.
 */
export async function executeSnapshotCleanupRun(message: unknown, context: InvocationContext): Promise<void> {
  const startedAt = Date.now();
  let runId: string;
  try {
    runId = parseRunMessage(message).runId;
  } catch (error) {
    if (!(error instanceof InvalidRunMessageError)) throw error;
    context.error(
      `Dropped an invalid run message${error.runId ? ` for run ${error.runId}` : ''}: ${error.message}`,
    );
    return;
  }
  const started = await startRun({
    trigger: 'http',
    runId,
    deadlineFor: invocationDeadline(startedAt, __dirname, (message) => context.warn(message)),
    statusUrl: sessionStatusUrl,
    traceParent: context.traceContext?.traceParent,
    logger: loggerFor(context),
  });
  if (started.status === 'busy') {
    throw new Error(`Run ${runId} waits: another cleanup run (${started.holderRunId}) holds the lease`);
  }
  if (started.status === 'closed') context.log(`Run ${runId} was already finished; nothing to do`);
  if (started.status === 'completed') context.log(`Run ${started.report.runId} completed`);
}

/** The host moved a run message to the poison queue after its tries: close that run as interrupted. */
export async function snapshotCleanupRunPoisoned(
  message: unknown,
  context: InvocationContext,
): Promise<void> {
  let runId: string;
  try {
    runId = parseRunMessage(message).runId;
  } catch (error) {
    if (!(error instanceof InvalidRunMessageError)) throw error;
    context.error(`Dropped an invalid poisoned run message${error.runId ? ` for run ${error.runId}` : ''}`);
    return;
  }
  context.error(`Run ${runId} failed on every try; it is closed as interrupted`);
  const storage = await openRunStorage(process.env);
  if (storage) await closePoisonedRun(storage, runId);
}

app.storageQueue('executeSnapshotCleanupRun', {
  queueName: QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: executeSnapshotCleanupRun,
});

app.storageQueue('snapshotCleanupRunPoisoned', {
  queueName: `${QUEUE}-poison`,
  connection: 'AzureWebJobsStorage',
  handler: snapshotCleanupRunPoisoned,
});
