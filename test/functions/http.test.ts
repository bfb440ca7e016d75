import { HttpRequest } from '@azure/functions';
import type { SimulatorHandle } from '../../dev/simulator';
import { getSnapshotCleanupSession } from '../../functions/getSnapshotCleanupSession';
import { runSnapshotCleanup } from '../../functions/runSnapshotCleanup';
import { closeSessionLookupClient } from '../../shared/admin/sessionLookup';
import { invalidateSecretCache } from '../../shared/config';
import type { Report } from '../../shared/report';
import { settingsFor, startAppliance, USER, vms } from '../support/engine';
import { invocation, postCleanup, setEnv } from '../support/functions';

describe('runSnapshotCleanup (POST /api/cleanup)', () => {
  let appliance: SimulatorHandle;
  let restoreEnv: () => void;
  const fleet = [...vms(4), { id: 'vm-slow', sessionDurationMs: 60_000 }];
  const ids = fleet.map((vm) => vm.id);

  beforeAll(async () => {
    appliance = await startAppliance({ vms: fleet });
    restoreEnv = setEnv(settingsFor(appliance, ids));
  });
  afterAll(async () => {
    closeSessionLookupClient();
    restoreEnv();
    await appliance.close();
  });
  beforeEach(() => invalidateSecretCache());

  async function call(request: HttpRequest) {
    const { context } = invocation('runSnapshotCleanup');
    const response = await runSnapshotCleanup(request, context);
    return { ...response, jsonBody: response.jsonBody as Record<string, unknown> };
  }

  it('answers 200 with the report when every target finished within the wait', async () => {
    const response = await call(postCleanup(JSON.stringify({ vmIds: ['vm-001', 'vm-002'] })));
    expect(response.status).toBe(200);
    const report = response.jsonBody as unknown as Report;
    expect(report.trigger).toBe('http');
    expect(report.results.map((r) => [r.vmId, r.outcome])).toEqual([
      ['vm-001', 'Succeeded'],
      ['vm-002', 'Succeeded'],
    ]);
  });

  it('answers 202 with the report so far and a Location for a session still running', async () => {
    const response = await call(
      postCleanup(JSON.stringify({ vmIds: ['vm-003', 'vm-slow'], waitSeconds: 3 })),
    );
    expect(response.status).toBe(202);
    const report = response.jsonBody as unknown as Report;
    const slow = report.results.find((r) => r.vmId === 'vm-slow');
    expect(slow?.outcome).toBe('TimedOut');
    expect(slow?.statusUrl).toBe(`/api/cleanup/sessions/${slow?.sessionId}?appliance=default`);
    const headers = response.headers as Record<string, string>;
    expect(headers.location).toBe(
      `http://localhost:7071/api/cleanup/sessions/${slow?.sessionId}?appliance=default`,
    );
    expect(report.results.find((r) => r.vmId === 'vm-003')?.outcome).toBe('Succeeded');

    const { context } = invocation('getSnapshotCleanupSession');
    const lookup = await getSnapshotCleanupSession(
      new HttpRequest({
        method: 'GET',
        url: headers.location,
        params: { sessionId: slow?.sessionId as string },
      }),
      context,
    );
    expect(lookup.status).toBe(200);
    expect(lookup.jsonBody).toMatchObject({ sessionId: slow?.sessionId, status: 'Running', done: false });
  });

  it('runs a dry run on request and deletes nothing', async () => {
    appliance.resetCounters();
    const response = await call(postCleanup(JSON.stringify({ vmIds: ['vm-004'], dryRun: true })));
    expect(response.status).toBe(200);
    expect((response.jsonBody as unknown as Report).results[0].outcome).toBe('WouldDelete');
    expect(appliance.counters.deleteCallsByVm).toEqual({});
  });

  it('rejects ids outside the configured targets, naming them, and runs nothing', async () => {
    appliance.resetCounters();
    const response = await call(postCleanup(JSON.stringify({ vmIds: ['vm-001', 'vm-intruder'] })));
    expect(response.status).toBe(400);
    expect(response.jsonBody.detail).toContain('"vm-intruder"');
    expect(response.jsonBody.detail).not.toContain('"vm-001"');
    expect(appliance.counters.deleteCallsByVm).toEqual({});
  });

  it('echoes ids outside the configured targets escaped and cut, never raw', async () => {
    const hostile = `vm-\u001b[2J${'x'.repeat(30_000)}`;
    const response = await call(postCleanup(JSON.stringify({ vmIds: [hostile] })));
    expect(response.status).toBe(400);
    expect(response.jsonBody.detail).not.toContain('\u001b');
    expect(response.jsonBody.notConfigured).toEqual([expect.stringMatching(/^vm-\\x1b\[2Jx+…$/)]);
    const text = JSON.stringify(response.jsonBody);
    expect(response.jsonBody.detail).toContain('"vm-\\x1b[2Jxxx');
    expect(response.jsonBody.detail).toContain('…"');
    expect(text.length).toBeLessThan(1_000);
  });

  it.each([
    ['malformed JSON', '{"vmIds": [', /not valid JSON/],
    ['an unknown field', '{"vmIds":["vm-001"],"force":true}', /unknown field\(s\): force/],
    ['a wrong type', '{"dryRun":"yes"}', /dryRun must be of type boolean/],
    ['a non-object body', '[1,2]', /must be a JSON object/],
    ['an empty id list', '{"vmIds":[]}', /vmIds must not be empty/],
    ['a wait over 220 s', '{"waitSeconds":221}', /waitSeconds must be at most 220/],
    ['a negative wait', '{"waitSeconds":-1}', /waitSeconds must be at least 0/],
    [
      'too many ids',
      JSON.stringify({ vmIds: Array.from({ length: 5001 }, (_, i) => `vm-${i}`) }),
      /more than 5000/,
    ],
  ])('answers 400 problem+json for %s', async (_name, body, detail) => {
    const response = await call(postCleanup(body));
    expect(response.status).toBe(400);
    expect((response.headers as Record<string, string>)['content-type']).toBe('application/problem+json');
    expect(response.jsonBody).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(response.jsonBody.detail).toMatch(detail);
  });

  it('answers 413 for a body over 256 KB', async () => {
    const response = await call(postCleanup(JSON.stringify({ vmIds: ['x'.repeat(300 * 1024)] })));
    expect(response.status).toBe(413);
  });

  it('answers 405 for a method other than POST', async () => {
    const response = await call(new HttpRequest({ method: 'GET', url: 'http://localhost:7071/api/cleanup' }));
    expect(response.status).toBe(405);
    expect((response.headers as Record<string, string>).allow).toBe('POST');
  });

  it('answers 409 with the running runId while a run is in progress', async () => {
    const first = call(postCleanup(JSON.stringify({ vmIds: ['vm-slow'], waitSeconds: 3 })));
    await new Promise((r) => setTimeout(r, 300));
    const second = await call(postCleanup(JSON.stringify({ vmIds: ['vm-001'] })));
    expect(second.status).toBe(409);
    const firstResponse = await first;
    expect(second.jsonBody.runId).toBe((firstResponse.jsonBody as unknown as Report).runId);
  });

  it('answers 500 naming the setting, never its value, when the configuration is broken', async () => {
    const restore = setEnv({ VEEAM_URL: 'http://appliance.example.com/CANARY-URL-VALUE' });
    invalidateSecretCache();
    try {
      const response = await call(postCleanup('{}'));
      expect(response.status).toBe(500);
      expect(response.jsonBody.setting).toBe('VEEAM_URL');
      expect(JSON.stringify(response.jsonBody)).not.toContain('CANARY');
      expect(JSON.stringify(response.jsonBody)).not.toContain(USER.password);
    } finally {
      restore();
    }
  });
});

describe('getSnapshotCleanupSession (GET /api/cleanup/sessions/{id})', () => {
  let appliance: SimulatorHandle;
  let restoreEnv: () => void;
  beforeAll(async () => {
    appliance = await startAppliance({ vms: vms(1) });
    restoreEnv = setEnv(settingsFor(appliance, ['vm-001']));
  });
  afterAll(async () => {
    closeSessionLookupClient();
    restoreEnv();
    await appliance.close();
  });

  const get = (sessionId: string, method = 'GET') =>
    getSnapshotCleanupSession(
      new HttpRequest({ method, url: `http://localhost:7071/api/cleanup/sessions/x`, params: { sessionId } }),
      invocation('getSnapshotCleanupSession').context,
    );

  it('answers 400 for a session id with characters outside [A-Za-z0-9-], echoing it escaped', async () => {
    const response = await get('../../etc/passwd\u001b[0m');
    expect(response.status).toBe(400);
    const detail = (response.jsonBody as { detail: string }).detail;
    expect(detail).toContain('"../../etc/passwd\\x1b[0m"');
    expect(detail).not.toContain('\u001b');
  });

  it('answers 404 for a session the appliance does not know', async () => {
    const response = await get('00000000-0000-0000-0000-000000000000');
    expect(response.status).toBe(404);
  });

  it('answers 405 for another method', async () => {
    expect((await get('123', 'DELETE')).status).toBe(405);
  });
});
