import fc from 'fast-check';
import { HttpRequest } from '@azure/functions';
import type { SimulatorHandle } from '../../dev/simulator';
import { getSnapshotCleanupSession } from '../../functions/getSnapshotCleanupSession';
import { runSnapshotCleanup } from '../../functions/runSnapshotCleanup';
import { settingsFor, startAppliance, USER, vms } from '../support/engine';
import { invocation, setEnv } from '../support/functions';

// VMs with nothing to delete answer 204 at once, so the bodies that pass validation run real, fast cleanups.
const fleet = vms(3, { manualSnapshots: 0 });
const ids = fleet.map((vm) => vm.id);

function assertSafe(status: number | undefined, body: unknown): void {
  expect(status).toBeGreaterThanOrEqual(200);
  expect(status).toBeLessThan(500);
  const text = JSON.stringify(body ?? null);
  expect(text).not.toContain(USER.password);
}

describe('admin HTTP handlers under generated input', () => {
  let appliance: SimulatorHandle;
  let restoreEnv: () => void;
  beforeAll(async () => {
    appliance = await startAppliance({ vms: fleet });
    restoreEnv = setEnv(settingsFor(appliance, ids));
  });
  afterAll(async () => {
    restoreEnv();
    await appliance.close();
  });

  const body = fc.oneof(
    fc.string(),
    fc.json(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          vmIds: fc.oneof(fc.array(fc.constantFrom(...ids, 'vm-999', ''), { maxLength: 4 }), fc.anything()),
          dryRun: fc.oneof(fc.boolean(), fc.anything()),
          waitSeconds: fc.oneof(fc.double({ min: -10, max: 400, noNaN: true }), fc.anything()),
          extra: fc.anything(),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
  );

  it('never answers 5xx and never echoes a secret, whatever the body or query', async () => {
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.webQueryParameters(),
        fc.constantFrom('POST', 'POST', 'GET', 'PUT', 'DELETE'),
        async (text, query, method) => {
          const request = new HttpRequest({
            method,
            url: `http://localhost:7071/api/cleanup?${query}`,
            headers: { 'content-type': 'application/json' },
            body: { string: text },
          });
          const response = await runSnapshotCleanup(request, invocation('runSnapshotCleanup').context);
          assertSafe(response.status, response.jsonBody);
        },
      ),
      { numRuns: 800, seed: 20261126 },
    );
  });

  it('never answers 5xx for generated session ids', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.uuid(), fc.stringMatching(/^[A-Za-z0-9-]{1,40}$/)),
        async (sessionId) => {
          const request = new HttpRequest({
            method: 'GET',
            url: 'http://localhost:7071/api/cleanup/sessions/x',
            params: { sessionId },
          });
          const response = await getSnapshotCleanupSession(
            request,
            invocation('getSnapshotCleanupSession').context,
          );
          assertSafe(response.status, response.jsonBody);
        },
      ),
      { numRuns: 300, seed: 20261126 },
    );
  });
});
