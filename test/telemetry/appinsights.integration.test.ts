import { startFakeIngestion, type Envelope, type FakeIngestion } from '../support/fake-ingestion';
import { runTelemetryChild } from './childProcess';

const CANARY = 'canary-secret-5d1e8f';
const OPERATION_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const TRACE_PARENT = `00-${OPERATION_ID}-${PARENT_ID}-01`;

const ofType = (envelopes: Envelope[], baseType: string) =>
  envelopes.filter((e) => e.data.baseType === baseType);

describe('App Insights sink against a local HTTPS ingestion endpoint (real SDK, child process)', () => {
  let fake: FakeIngestion;
  let envelopes: Envelope[];
  let run: Awaited<ReturnType<typeof runTelemetryChild>>;

  beforeAll(async () => {
    fake = await startFakeIngestion();
    run = await runTelemetryChild({
      ingestionUrl: fake.url,
      caFile: fake.caFile,
      canary: CANARY,
      traceParent: TRACE_PARENT,
      flushTimeoutMs: 5000,
    });
    envelopes = fake.envelopes;
  });
  afterAll(() => fake.close());

  it('completes, flushes, loads the SDK only on first use and connects to nothing but loopback', () => {
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      flushReturned: true,
      sdkLoadedAtCreate: false,
      sdkLoadedAfterTrack: true,
    });
    expect(run.guardLog).toBe('');
    expect(fake.requests.every((r) => r.method === 'POST' && r.path.startsWith('/v2.1/track'))).toBe(true);
  });

  it('sends one SnapshotCleanup.VmResult per VM with the documented properties and measurements', () => {
    const vmEvents = ofType(envelopes, 'EventData').filter(
      (e) => e.data.baseData.name === 'SnapshotCleanup.VmResult',
    );
    const byVm = Object.fromEntries(vmEvents.map((e) => [e.data.baseData.properties.vmId, e.data.baseData]));
    expect(Object.keys(byVm).sort()).toEqual(['vm-failed', 'vm-ok', 'vm-timeout', 'vm-warn']);
    expect(byVm['vm-ok'].properties).toEqual({
      runId: 'run-20260101-0200',
      trigger: 'timer',
      apiVersion: 'v8.1',
      dryRun: 'false',
      vmId: 'vm-ok',
      appliance: 'default',
      outcome: 'Succeeded',
      sessionId: 'sess-ok',
      sessionStatus: 'Success',
    });
    expect(byVm['vm-ok'].measurements).toEqual({ durationMs: 4200, attempts: 1 });
    expect(byVm['vm-warn'].properties).toMatchObject({
      outcome: 'Warning',
      lastLogStatus: 'Warning',
      lastLogMessage: 'Snapshot 2 kept; retry used password=[REDACTED]',
    });
    expect(byVm['vm-failed'].properties).toMatchObject({
      outcome: 'Failed',
      error: 'Appliance answered 500 to a request with Authorization: Bearer [REDACTED]',
    });
    expect(byVm['vm-failed'].measurements).toEqual({ durationMs: 900, attempts: 3 });
    expect(byVm['vm-timeout'].properties).toMatchObject({ outcome: 'TimedOut', sessionId: 'sess-slow' });
  });

  it('sends SnapshotCleanup.RunCompleted with the totals, durationMs and trigger', () => {
    const [run] = ofType(envelopes, 'EventData').filter(
      (e) => e.data.baseData.name === 'SnapshotCleanup.RunCompleted',
    );
    expect(run.data.baseData.properties).toMatchObject({ runId: 'run-20260101-0200', trigger: 'timer' });
    expect(run.data.baseData.measurements).toMatchObject({
      durationMs: 41200,
      targets: 4,
      succeeded: 1,
      warning: 1,
      failed: 1,
      timedOut: 1,
      duplicatesRemoved: 1,
    });
  });

  it('sends the three metrics with runId', () => {
    const metrics = ofType(envelopes, 'MetricData').flatMap((e) =>
      e.data.baseData.metrics.map((m: { name: string; value: number }) => ({
        ...m,
        properties: e.data.baseData.properties,
      })),
    );
    const byName = Object.fromEntries(metrics.map((m) => [m.name, m]));
    expect(byName['SnapshotCleanup.VmsSucceeded']).toMatchObject({
      value: 2,
      properties: { runId: 'run-20260101-0200' },
    });
    expect(byName['SnapshotCleanup.VmsFailed']).toMatchObject({
      value: 2,
      properties: { runId: 'run-20260101-0200' },
    });
    expect(byName['SnapshotCleanup.RunDurationMs']).toMatchObject({ value: 41200 });
  });

  it('sends the exception with runId and a scrubbed message', () => {
    const [exception] = ofType(envelopes, 'ExceptionData');
    expect(exception.data.baseData.properties).toMatchObject({
      runId: 'run-20260101-0200',
      vmId: 'vm-failed',
    });
    expect(exception.data.baseData.exceptions[0]).toMatchObject({
      typeName: 'VeeamTransportError',
      message: 'request to https://[REDACTED]@appliance.example/api?access_token=[REDACTED] failed',
    });
  });

  it('sends the Veeam call as an HTTP dependency with a templated name and no query or token', () => {
    const [dependency] = ofType(envelopes, 'RemoteDependencyData');
    expect(dependency.data.baseData).toMatchObject({
      name: 'POST /api/v8.1/protectedItem/virtualMachines/{id}/deleteManualSnapshots',
      type: 'Http',
      resultCode: '202',
      success: true,
      target:
        'https://appliance.example:8443/api/v8.1/protectedItem/virtualMachines/vm-ok/deleteManualSnapshots',
    });
    expect(dependency.data.baseData.properties).toMatchObject({
      runId: 'run-20260101-0200',
      trigger: 'timer',
    });
    expect(JSON.stringify(dependency)).not.toMatch(/[?]|access_token/);
  });

  it('tags events, exceptions and dependencies with the invocation operation id', () => {
    const correlated = envelopes.filter((e) => e.data.baseType !== 'MetricData');
    expect(correlated.length).toBeGreaterThanOrEqual(7);
    for (const envelope of correlated) {
      expect(envelope.tags).toMatchObject({ 'ai.operation.id': OPERATION_ID });
      expect(envelope.data.baseData.properties).not.toHaveProperty('operationId');
    }
    expect(ofType(envelopes, 'EventData')[0].tags).toMatchObject({ 'ai.operation.parentId': PARENT_ID });
  });

  it('lets no canary secret out: not in any request body, nor on stdout/stderr', () => {
    expect(fake.bodies.length).toBeGreaterThan(0);
    for (const body of fake.bodies) expect(body).not.toContain(CANARY);
    expect(run.stdout + run.stderr).not.toContain(CANARY);
  });
});

describe('App Insights sink when ingestion is down', () => {
  it.each(['hang', 'closed'] as const)(
    'a %s endpoint does not fail the run, and flush returns',
    async (mode) => {
      const fake = await startFakeIngestion({ mode: mode === 'hang' ? 'hang' : 'accept' });
      if (mode === 'closed') await fake.close();
      try {
        const run = await runTelemetryChild({
          ingestionUrl: fake.url,
          caFile: fake.caFile,
          canary: CANARY,
          traceParent: TRACE_PARENT,
          flushTimeoutMs: 300,
        });
        expect(run.code).toBe(0);
        expect(JSON.parse(run.stdout)).toMatchObject({ flushReturned: true });
        expect(run.guardLog).toBe('');
        expect(run.stderr).not.toContain(CANARY);
        if (mode === 'hang') expect(fake.requests.length).toBeGreaterThan(0);
      } finally {
        if (mode === 'hang') await fake.close();
      }
    },
  );
});
