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
          minAge: fc.oneof(
            fc.constantFrom('P7D', 'PT36H', 'P1M', 'PT', '0', '-5'),
            fc.double(),
            fc.anything(),
          ),
          keepLatest: fc.oneof(fc.integer({ min: -3, max: 5 }), fc.double(), fc.anything()),
          extra: fc.anything(),
        },
        { requiredKeys: [] },
      )
      .map((v) => JSON.stringify(v)),
  );

  const contentType = fc.constantFrom(
    'application/json',
    'application/json',
    'application/json; charset=utf-8',
    'application/problem+json',
    'text/plain',
    'multipart/form-data; boundary=x',
  );

  const post = (text: string, query: string, method: string, type: string) =>
    runSnapshotCleanup(
      new HttpRequest({
        method,
        url: `http://localhost:7071/api/cleanup?${query}`,
        headers: { 'content-type': type },
        body: { string: text },
      }),
      invocation('runSnapshotCleanup').context,
    );

  it('never answers 5xx and never echoes a secret, whatever the body or query', async () => {
    await fc.assert(
      fc.asyncProperty(
        body,
        fc.webQueryParameters(),
        fc.constantFrom('POST', 'POST', 'GET', 'PUT', 'DELETE'),
        contentType,
        async (text, query, method, type) => {
          const response = await post(text, query, method, type);
          assertSafe(response.status, response.jsonBody);
        },
      ),
      { numRuns: 800, seed: 20261126 },
    );
  });

  // Bodies that pass validation, so that most of them reach the tighten-only rule and the run.
  const wellFormed = fc
    .record(
      {
        vmIds: fc.subarray(ids, { minLength: 1 }),
        dryRun: fc.boolean(),
        waitSeconds: fc.constantFrom(5, 30),
        minAge: fc.constantFrom('PT1S', 'P7D', 3600),
        keepLatest: fc.nat(3),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v));

  it('never deletes while CLEANUP_DRY_RUN=true, whatever the body', async () => {
    const restore = setEnv({ CLEANUP_DRY_RUN: 'true' });
    appliance.resetCounters();
    try {
      await fc.assert(
        fc.asyncProperty(fc.oneof(wellFormed, body), contentType, async (text, type) => {
          const response = await post(text, '', 'POST', type);
          assertSafe(response.status, response.jsonBody);
        }),
        { numRuns: 200, seed: 20261201 },
      );
      expect(appliance.counters.deleteCallsByVm).toEqual({});
    } finally {
      restore();
    }
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
