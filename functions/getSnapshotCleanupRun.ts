import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { problem } from '../shared/admin/problem';
import { configProblem } from '../shared/admin/responses';
import { getRunStatus, listRunStatuses } from '../shared/admin/runStatus';
import { openRunStorage } from '../shared/runs/openStorage';

/**
 * GET /api/cleanup/runs/{runId}: one run from the ledger (its report once completed);
 * GET /api/cleanup/runs?last=N: the latest runs, newest first. The timer writes the same ledger, so this
 * answers "what happened last night" from the app itself.
 */
export async function getSnapshotCleanupRun(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  if (request.method !== 'GET')
    return problem(405, `${request.method} is not allowed; use GET`, {}, { allow: 'GET' });
  let storage;
  try {
    storage = await openRunStorage(process.env);
  } catch (error) {
    return configProblem(error, context);
  }
  if (!storage) return problem(404, 'Runs are recorded only when AzureWebJobsStorage is configured');
  const runId = request.params.runId;
  const answer = runId
    ? await getRunStatus(storage, runId)
    : await listRunStatuses(storage, request.query.get('last'));
  return 'jsonBody' in answer ? answer : { status: answer.status, jsonBody: answer.body };
}

app.http('getSnapshotCleanupRun', {
  route: 'cleanup/runs/{runId?}',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  authLevel: 'function',
  handler: getSnapshotCleanupRun,
});
