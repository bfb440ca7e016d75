import { AmbiguousDeleteError, VeeamApiError, VeeamNetworkError } from '../../shared/veeam/errors';
import { clientFor, closeAll, simulator } from './helpers';

afterEach(closeAll);

const vm = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `name-${id}`,
  sessionDurationMs: 40,
  ...extra,
});

describe('API generations', () => {
  it('auto picks v8.1 when the probe answers, and says so', async () => {
    const sim = await simulator({ vms: [vm('a1')] });
    const client = clientFor(sim);
    await expect(client.connect()).resolves.toEqual({ apiVersion: 'v8.1' });
    expect(client.apiVersion).toBe('v8.1');
    await client.connect();
    expect(sim.counters.requestsByRoute['v8.1.about']).toBe(1);
  });

  it('auto falls back to v1 on a v1-only appliance', async () => {
    const sim = await simulator({ versions: ['v1'], vms: [vm('a1')] });
    const client = clientFor(sim);
    await expect(client.connect()).resolves.toEqual({ apiVersion: 'v1' });
  });

  it('v1: deleteSnapshots, then the poller ends Success', async () => {
    const sim = await simulator({ vms: [vm('v1vm')] });
    const client = clientFor(sim, { apiVersion: 'v1' });
    const submitted = await client.deleteSnapshots('v1vm');
    expect(submitted).toMatchObject({ kind: 'session', attempts: 1 });
    if (submitted.kind !== 'session') throw new Error('no session');
    expect(sim.counters.requestsByRoute['v1.deleteSnapshots']).toBe(1);
    const progress: string[] = [];
    const poller = client.createSessionPoller(submitted.session);
    poller.onProgress((p) => progress.push(p.status));
    const result = await poller.pollUntilDone();
    expect(result).toMatchObject({
      sessionId: submitted.session.id,
      status: 'Success',
      lastStatus: 'Success',
    });
    expect(result.log).toBeUndefined();
    expect(progress[progress.length - 1]).toBe('Success');
    expect(poller.isDone()).toBe(true);
    expect(sim.counters.requestsByRoute['v1.getSession']).toBe(result.polls);
  });

  it('v8.1 single: deleteManualSnapshots, then Success', async () => {
    const sim = await simulator({ vms: [vm('v8vm')] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const submitted = await client.deleteSnapshots('v8vm');
    if (submitted.kind !== 'session') throw new Error('expected a session');
    expect(sim.counters.requestsByRoute['v8.1.deleteManualSnapshots']).toBe(1);
    const result = await client.createSessionPoller(submitted.session).pollUntilDone();
    expect(result.status).toBe('Success');
    expect(sim.getVm('v8vm')!.restorePoints.some((p) => p.backupDestination === 'ManualSnapshot')).toBe(
      false,
    );
  });

  it('v8.1 204: nothing to delete, no session', async () => {
    const sim = await simulator({ vms: [vm('empty', { manualSnapshots: 0 })] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await expect(client.deleteSnapshots('empty')).resolves.toEqual({ kind: 'nothingToDelete', attempts: 1 });
  });

  it('v8.1 batch: one request with {"ids":[…]}, per-VM status from the log', async () => {
    const sim = await simulator({ vms: [vm('b1'), vm('b2', { outcome: 'Error' }), vm('b3')] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const submitted = await client.deleteSnapshotsBatch(['b1', 'b2', 'b3']);
    if (submitted.kind !== 'session') throw new Error('expected a session');
    expect(sim.counters.requestsByRoute['v8.1.batchDeleteManualSnapshots']).toBe(1);
    expect(sim.counters.deleteCallsByVm).toEqual({ b1: 1, b2: 1, b3: 1 });
    const [r1, r2] = await Promise.all(
      ['b1', 'b2'].map((vmId) => client.createSessionPoller(submitted.session, { vmId }).pollUntilDone()),
    );
    expect(r1.lastStatus).toBe('Error');
    expect(r1.status).toBe('Success');
    expect(r2.status).toBe('Error');
    expect(r2.log!.length).toBeGreaterThan(0);
  });

  it('batch is refused on v1', async () => {
    const sim = await simulator({ vms: [vm('x')] });
    const client = clientFor(sim, { apiVersion: 'v1' });
    await expect(client.deleteSnapshotsBatch(['x'])).rejects.toThrow(/v8\.1/);
  });

  it('404 VM: typed error with status, problem title and traceId, not retried', async () => {
    const sim = await simulator({ vms: [vm('known')] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const error = await client.deleteSnapshots('missing-vm').catch((e) => e);
    expect(error).toBeInstanceOf(VeeamApiError);
    expect(error).toMatchObject({ status: 404, method: 'POST', title: 'Not Found' });
    expect(error.path).toBe('/api/v8.1/protectedItem/virtualMachines/missing-vm/deleteManualSnapshots');
    expect(error.traceId).toBeTruthy();
    expect(sim.counters.requestsByRoute['v8.1.deleteManualSnapshots']).toBe(1);
    await expect(client.planDeletion('missing-vm')).rejects.toMatchObject({ status: 404 });
  });
});

describe('dry run', () => {
  it('v8.1 lists the ManualSnapshot restore points only', async () => {
    const sim = await simulator({ vms: [vm('dry', { manualSnapshots: 3, policySnapshots: 2 })] });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const plan = await client.planDeletion('dry');
    expect(plan.vmName).toBe('name-dry');
    const manual = sim.getVm('dry')!.restorePoints.filter((p) => p.backupDestination === 'ManualSnapshot');
    expect(plan.snapshots!.map((s) => s.id).sort()).toEqual(manual.map((p) => p.id).sort());
    expect(plan.snapshots![0].pointInTime).toBeTruthy();
    expect(sim.counters.deleteCallsByVm).toEqual({});
  });

  it('v1 resolves the VM and cannot list snapshots', async () => {
    const sim = await simulator({ vms: [vm('dry1')] });
    const client = clientFor(sim, { apiVersion: 'v1' });
    await expect(client.planDeletion('dry1')).resolves.toEqual({ vmId: 'dry1', vmName: 'name-dry1' });
  });
});

describe('retries and the no-double-delete rule', () => {
  it('429 with Retry-After, then success', async () => {
    const sim = await simulator({ vms: [vm('t1')] });
    sim.addFault({
      route: 'v8.1.deleteManualSnapshots',
      kind: 'status',
      status: 429,
      retryAfter: '0',
      times: 2,
    });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const submitted = await client.deleteSnapshots('t1');
    expect(submitted).toMatchObject({ kind: 'session', attempts: 3 });
    expect(sim.counters.deleteCallsByVm.t1).toBe(1);
  });

  it('429 with an HTTP-date Retry-After and without Retry-After', async () => {
    const sim = await simulator({ vms: [vm('t2')] });
    sim.addFault({
      route: 'v8.1.getVm',
      kind: 'status',
      status: 429,
      retryAfter: new Date(Date.now() - 1000).toUTCString(),
      times: 1,
    });
    sim.addFault({ route: 'v8.1.getVm', kind: 'status', status: 429, times: 1 });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await expect(client.planDeletion('t2')).resolves.toMatchObject({ vmId: 't2' });
    expect(client.requests.filter((r) => r.status === 429)).toHaveLength(2);
  });

  it('a 503 burst is ridden out; too many gives the typed 503', async () => {
    const sim = await simulator({ vms: [vm('t3')] });
    sim.addFault({ route: '*', kind: 'status', status: 503, times: 3 });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await expect(client.planDeletion('t3')).resolves.toMatchObject({ vmId: 't3' });
    sim.addFault({ route: 'v8.1.getVm', kind: 'status', status: 503, times: 10 });
    const error = await client.planDeletion('t3').catch((e) => e);
    expect(error).toMatchObject({ status: 503, method: 'GET' });
    expect(client.requests.filter((r) => r.status === 503)).toHaveLength(3 + 5);
  });

  it('400 and 403 style answers are not retried; 502 on a GET is', async () => {
    const sim = await simulator({ vms: [vm('t4')] });
    sim.addFault({ route: 'v8.1.getVm', kind: 'status', status: 502, times: 1 });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await client.planDeletion('t4');
    expect(sim.counters.requestsByRoute['v8.1.getVm']).toBe(2);
    sim.addFault({ route: 'v8.1.deleteManualSnapshots', kind: 'status', status: 500, times: 1 });
    await expect(client.deleteSnapshots('t4')).rejects.toMatchObject({ status: 500 });
    expect(sim.counters.requestsByRoute['v8.1.deleteManualSnapshots']).toBe(1);
  });

  it('v8.1 reset after send: finds the session it started, never deletes twice', async () => {
    const sim = await simulator({ vms: [vm('r1')] });
    sim.addFault({ route: 'v8.1.deleteManualSnapshots', kind: 'drop', phase: 'after', times: 1 });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const submitted = await client.deleteSnapshots('r1');
    expect(submitted).toMatchObject({ kind: 'session', attempts: 1 });
    expect(sim.counters.deleteCallsByVm.r1).toBe(1);
    expect(sim.counters.requestsByRoute['v8.1.listSessions']).toBe(1);
    if (submitted.kind !== 'session') throw new Error('expected a session');
    expect(sim.sessions().map((s) => s.id)).toEqual([submitted.session.id]);
    await expect(client.createSessionPoller(submitted.session).pollUntilDone()).resolves.toMatchObject({
      status: 'Success',
    });
  });

  it('v8.1 timeout after the appliance acted: same, the session is found', async () => {
    const sim = await simulator({ vms: [vm('r2')] });
    sim.addFault({ route: 'v8.1.deleteManualSnapshots', kind: 'slow', delayMs: 400, times: 1 });
    const client = clientFor(sim, { apiVersion: 'v8.1', requestTimeoutMs: 150 });
    await expect(client.deleteSnapshots('r2')).resolves.toMatchObject({ kind: 'session', attempts: 1 });
    expect(sim.counters.deleteCallsByVm.r2).toBe(1);
  });

  it('v8.1 drop before processing: nothing found, exactly one resend', async () => {
    const sim = await simulator({ vms: [vm('r3')] });
    sim.addFault({ route: 'v8.1.deleteManualSnapshots', kind: 'drop', phase: 'before', times: 1 });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await expect(client.deleteSnapshots('r3')).resolves.toMatchObject({ kind: 'session', attempts: 2 });
    expect(sim.counters.deleteCallsByVm.r3).toBe(1);
  });

  it('v1 reset after send: AmbiguousDeleteError, no second delete', async () => {
    const sim = await simulator({ vms: [vm('r4')] });
    sim.addFault({ route: 'v1.deleteSnapshots', kind: 'drop', phase: 'after', times: 1 });
    const client = clientFor(sim, { apiVersion: 'v1' });
    const error = await client.deleteSnapshots('r4').catch((e) => e);
    expect(error).toBeInstanceOf(AmbiguousDeleteError);
    expect(error.message).toBe('unknown whether the delete was accepted');
    expect(error.vmId).toBe('r4');
    expect(sim.counters.requestsByRoute['v1.deleteSnapshots']).toBe(1);
  });

  it('v8.1 batch reset after send: the batch session is found', async () => {
    const sim = await simulator({ vms: [vm('rb1'), vm('rb2')] });
    sim.addFault({ route: 'v8.1.batchDeleteManualSnapshots', kind: 'drop', phase: 'after', times: 1 });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await expect(client.deleteSnapshotsBatch(['rb1', 'rb2'])).resolves.toMatchObject({ kind: 'session' });
    expect(sim.counters.deleteCallsByVm).toEqual({ rb1: 1, rb2: 1 });
  });

  it('connection refused: retried (never sent), then a typed network error', async () => {
    const sim = await simulator();
    const url = sim.url;
    await sim.close();
    const client = clientFor({ ...sim, url } as never, { baseUrl: url, apiVersion: 'v1' });
    const error = await client.connect().catch((e) => e);
    expect(error).toBeInstanceOf(VeeamNetworkError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED', notSent: true, path: '/api/oauth2/token' });
    expect(client.requests).toHaveLength(5);
  });

  it('a malformed 2xx on a GET is retried', async () => {
    const sim = await simulator({ vms: [vm('m1')] });
    sim.addFault({ route: 'v8.1.getVm', kind: 'malformedJson', times: 1 });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    await expect(client.planDeletion('m1')).resolves.toMatchObject({ vmId: 'm1' });
  });

  it('the caller abort signal stops a call', async () => {
    const sim = await simulator({ vms: [vm('ab')], latencyMs: 200 });
    const client = clientFor(sim, { apiVersion: 'v8.1' });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('caller gave up')), 30);
    await expect(client.connect({ abortSignal: abort.signal })).rejects.toThrow('caller gave up');
  });
});
