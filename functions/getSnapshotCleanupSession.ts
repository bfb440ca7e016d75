import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { isValidSessionId } from '../shared/admin/cleanupRequest';
import { problem } from '../shared/admin/problem';
import { configProblem } from '../shared/admin/responses';
import { lookupSession } from '../shared/admin/sessionLookup';
import { loadConfig } from '../shared/config';
import { VeeamApiError } from '../shared/veeam/errors';

/** GET /api/cleanup/sessions/{sessionId}: a session's status and log, read from the appliance. */
export async function getSnapshotCleanupSession(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  if (request.method !== 'GET')
    return problem(405, `${request.method} is not allowed; use GET`, {}, { allow: 'GET' });
  const sessionId = request.params.sessionId;
  if (!isValidSessionId(sessionId)) {
    return problem(400, 'sessionId must be 1 to 128 characters from [A-Za-z0-9-]');
  }
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    return configProblem(error, context);
  }
  try {
    return { status: 200, jsonBody: await lookupSession(config, sessionId) };
  } catch (error) {
    if (error instanceof VeeamApiError && error.status === 404) {
      return problem(404, `The appliance has no session ${sessionId}`);
    }
    context.error(`Session lookup failed: ${(error as Error).message}`);
    return problem(
      502,
      `The appliance could not be asked about session ${sessionId}: ${(error as Error).message}`,
    );
  }
}

app.http('getSnapshotCleanupSession', {
  route: 'cleanup/sessions/{sessionId}',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  authLevel: 'function',
  handler: getSnapshotCleanupSession,
});
