import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { isValidSessionId } from '../shared/admin/cleanupRequest';
import { problem } from '../shared/admin/problem';
import { configProblem } from '../shared/admin/responses';
import { applianceForLookup, lookupSession } from '../shared/admin/sessionLookup';
import { loadConfig } from '../shared/config';
import { displayId } from '../shared/displayId';

/**
 * GET /api/cleanup/sessions/{sessionId}[?appliance=<name>]: a snapshot-deletion session's status and log, read
 * from the appliance (the only one, or the one named).
 */
export async function getSnapshotCleanupSession(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  if (request.method !== 'GET')
    return problem(405, `${request.method} is not allowed; use GET`, {}, { allow: 'GET' });
  const sessionId = request.params.sessionId;
  if (!isValidSessionId(sessionId)) {
    return problem(
      400,
      `sessionId "${displayId(sessionId ?? '')}" is invalid: use 1 to 128 characters from [A-Za-z0-9-]`,
    );
  }
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    return configProblem(error, context);
  }
  const name = request.query.get('appliance');
  const appliance = applianceForLookup(config, name);
  if (!appliance) {
    return name
      ? problem(404, `No appliance named "${displayId(name)}" is configured`)
      : problem(400, 'Several appliances are configured: name one with ?appliance=<name>');
  }
  try {
    const lookup = await lookupSession(appliance, sessionId);
    // Unknown ids and sessions of other types look the same, so ids cannot be probed for what they are.
    if (!lookup)
      return problem(404, `The appliance has no snapshot-deletion session ${displayId(sessionId)}`);
    return { status: 200, jsonBody: lookup };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    context.error(`Session lookup failed: ${message}`);
    return problem(502, `The appliance could not be asked about session ${displayId(sessionId)}: ${message}`);
  }
}

app.http('getSnapshotCleanupSession', {
  route: 'cleanup/sessions/{sessionId}',
  methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'],
  authLevel: 'function',
  handler: getSnapshotCleanupSession,
});
