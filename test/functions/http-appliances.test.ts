/**
 * POST /api/cleanup with a two-appliance policy: qualified ids, bare ids that must be unambiguous, the
 * `appliance` field, and the session lookup that names its appliance.
 */
import { HttpRequest } from '@azure/functions';
import { startSimulator, type SimulatorHandle } from '../../dev/simulator';
import { getSnapshotCleanupSession } from '../../functions/getSnapshotCleanupSession';
import { runSnapshotCleanup } from '../../functions/runSnapshotCleanup';
import { closeSessionLookupClient } from '../../shared/admin/sessionLookup';
import { invalidateSecretCache } from '../../shared/config';
import type { Report } from '../../shared/report';
import { invocation, postCleanup, setEnv } from '../support/functions';

const A_USER = { username: 'a-svc', password: 'CANARY-A-PASSWORD-e41f' };
const B_USER = { username: 'b-svc', password: 'CANARY-B-PASSWORD-07aa' };

describe('POST /api/cleanup over several appliances', () => {
  let a: SimulatorHandle;
  let b: SimulatorHandle;
  let restoreEnv: () => void;

  beforeAll(async () => {
    a = await startSimulator({
      users: [A_USER],
      vms: [
        { id: 'a-1', name: 'app-1', sessionDurationMs: 20 },
        { id: 'a-2', name: 'app-2', sessionDurationMs: 20 },
        { id: 'both', name: 'app-both', sessionDurationMs: 20 },
        { id: 'a-slow', name: 'app-slow', sessionDurationMs: 60_000 },
      ],
    });
    b = await startSimulator({
      users: [B_USER],
      vms: ['b-1', 'both'].map((id) => ({ id, sessionDurationMs: 20 })),
    });
    const policy = {
      defaults: { minAge: 'PT1H' },
      appliances: [
        {
          name: 'alpha',
          url: a.url,
          usernameSecret: 'a-user',
          passwordSecret: 'a-pass',
          targets: { discover: {} },
        },
        {
          name: 'beta',
          url: b.url,
          usernameSecret: 'b-user',
          passwordSecret: 'b-pass',
          targets: { vmIds: ['b-1', 'both'] },
          retention: { keepLatest: 1 },
        },
      ],
    };
    restoreEnv = setEnv({
      CLEANUP_POLICY: JSON.stringify(policy),
      A_USER: A_USER.username,
      A_PASS: A_USER.password,
      B_USER: B_USER.username,
      B_PASS: B_USER.password,
      // No storage settings: the run happens in place.
      AzureWebJobsStorage: undefined,
      AzureWebJobsStorage__accountName: undefined,
    });
  });
  afterAll(async () => {
    closeSessionLookupClient();
    restoreEnv();
    await Promise.all([a.close(), b.close()]);
  });
  beforeEach(() => {
    invalidateSecretCache();
    a.resetCounters();
    b.resetCounters();
  });

  async function call(body: unknown) {
    const { context } = invocation('runSnapshotCleanup');
    const response = await runSnapshotCleanup(postCleanup(JSON.stringify(body)), context);
    return { ...response, jsonBody: response.jsonBody as Record<string, unknown> };
  }
  const detail = (response: { jsonBody: Record<string, unknown> }) => String(response.jsonBody.detail);

  it('runs qualified ids on their appliances; the same id on two appliances is two targets', async () => {
    const response = await call({ vmIds: ['alpha/a-1', 'alpha/both', 'beta/both'] });
    expect(response.status).toBe(200);
    const report = response.jsonBody as unknown as Report;
    expect(report.results.map((r) => [r.appliance, r.vmId, r.outcome])).toEqual([
      ['alpha', 'a-1', 'Succeeded'],
      ['alpha', 'both', 'Succeeded'],
      ['beta', 'both', 'Succeeded'],
    ]);
    expect(a.counters.pointDeleteCallsByVm['a-2']).toBeUndefined();
    expect(b.counters.pointDeleteCallsByVm['b-1']).toBeUndefined();
  });

  it('resolves a bare id held by one configured list, and refuses one two appliances could hold', async () => {
    const bare = await call({ vmIds: ['b-1'] });
    expect(bare.status).toBe(200);
    expect((bare.jsonBody as unknown as Report).results.map((r) => [r.appliance, r.vmId])).toEqual([
      ['beta', 'b-1'],
    ]);

    // "both" is in beta's list: that list decides, alpha's discovery does not make it ambiguous.
    const listed = await call({ vmIds: ['both'] });
    expect((listed.jsonBody as unknown as Report).results.map((r) => r.appliance)).toEqual(['beta']);

    a.resetCounters();
    b.resetCounters();
    const unknown = await call({ vmIds: ['nobody/a-1', 'beta/a-1'] });
    expect(unknown.status).toBe(400);
    expect(detail(unknown)).toMatch(/appliances that are not configured: "nobody\/a-1"/);
    expect(detail(unknown)).toMatch(/not configured: "beta\/a-1"/);
    expect(a.counters.tokensIssued.password + b.counters.tokensIssued.password).toBe(0);
  });

  it('reports a bare id the discovering appliance does not list as InvalidId', async () => {
    const response = await call({ vmIds: ['a-missing'] });
    expect(response.status).toBe(200);
    const report = response.jsonBody as unknown as Report;
    expect(report.results).toEqual([
      expect.objectContaining({ appliance: 'alpha', vmId: 'a-missing', outcome: 'InvalidId' }),
    ]);
    expect(a.counters.pointDeleteCallsByVm).toEqual({});
  });

  it('restricts a run to the named appliance', async () => {
    const response = await call({ appliance: 'beta' });
    expect(response.status).toBe(200);
    const report = response.jsonBody as unknown as Report;
    expect(report.appliances.map((x) => x.name)).toEqual(['beta']);
    expect(new Set(report.results.map((r) => r.appliance))).toEqual(new Set(['beta']));
    expect(a.counters.tokensIssued.password).toBe(0);

    const mismatch = await call({ appliance: 'beta', vmIds: ['alpha/a-1'] });
    expect(mismatch.status).toBe(400);
    expect(detail(mismatch)).toMatch(/not in this run: "alpha\/a-1"/);

    const unknown = await call({ appliance: 'gamma' });
    expect(unknown.status).toBe(400);
    expect(unknown.jsonBody.invalidParams).toEqual([
      { name: 'appliance', reason: 'is not a configured appliance' },
    ]);
  });

  it('refuses a body looser than the strictest selected appliance', async () => {
    const looser = await call({ keepLatest: 0 });
    expect(looser.status).toBe(400);
    expect(detail(looser)).toMatch(/keepLatest may not be smaller/);
    // Only alpha selected: it keeps none, so keepLatest 0 is not looser there.
    const alphaOnly = await call({ appliance: 'alpha', keepLatest: 0, vmIds: ['a-1'] });
    expect(alphaOnly.status).toBe(200);
  });

  it('gives a still-running session a status URL that names its appliance', async () => {
    const response = await call({ vmIds: ['alpha/a-slow'], waitSeconds: 3 });
    expect(response.status).toBe(202);
    const slow = (response.jsonBody as unknown as Report).results[0];
    expect(slow.outcome).toBe('TimedOut');
    const sessionId = slow.snapshots?.find((s) => s.sessionId)?.sessionId as string;
    expect(slow.statusUrl).toBe(`/api/cleanup/sessions/${sessionId}?appliance=alpha`);

    const lookup = (url: string) =>
      getSnapshotCleanupSession(
        new HttpRequest({ method: 'GET', url: `http://localhost:7071${url}`, params: { sessionId } }),
        invocation('getSnapshotCleanupSession').context,
      );
    const found = await lookup(slow.statusUrl as string);
    expect(found.status).toBe(200);
    expect(found.jsonBody).toMatchObject({ sessionId, status: 'Running' });
    expect((await lookup(`/api/cleanup/sessions/${sessionId}`)).status).toBe(400);
    expect((await lookup(`/api/cleanup/sessions/${sessionId}?appliance=gamma`)).status).toBe(404);
  });
});
