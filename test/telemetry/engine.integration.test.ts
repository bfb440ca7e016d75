import type { Report } from '../../shared/report';
import { startFakeIngestion, type Envelope, type FakeIngestion } from '../support/fake-ingestion';
import { runTelemetryChild } from './childProcess';

const CANARY = 'canary-engine-41c7';
const OPERATION_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACE_PARENT = `00-${OPERATION_ID}-b7ad6b7169203331-01`;

const named = (envelopes: Envelope[], baseType: string, name?: string) =>
  envelopes.filter(
    (e) => e.data.baseType === baseType && (name === undefined || e.data.baseData.name === name),
  );

// The whole path of a nightly run: the real engine against the simulator, the real SDK, a local HTTPS
// ingestion endpoint. What the admin sees next morning is what this asserts.
describe('a real cleanup run as seen in App Insights', () => {
  let fake: FakeIngestion;
  let report: Report;
  let run: Awaited<ReturnType<typeof runTelemetryChild>>;

  beforeAll(async () => {
    fake = await startFakeIngestion();
    run = await runTelemetryChild({
      ingestionUrl: fake.url,
      caFile: fake.caFile,
      canary: CANARY,
      traceParent: TRACE_PARENT,
      flushTimeoutMs: 5000,
      runner: 'engine',
    });
    report = (JSON.parse(run.stdout) as { report: Report }).report;
  });
  afterAll(() => fake.close());

  it('completes with loopback traffic only', () => {
    expect(run.code).toBe(0);
    expect(run.guardLog).toBe('');
  });

  it('writes one VmResult per target, matching the report', () => {
    const events = named(fake.envelopes, 'EventData', 'SnapshotCleanup.VmResult');
    const outcomes = Object.fromEntries(
      events.map((e) => [e.data.baseData.properties.vmId, e.data.baseData.properties.outcome]),
    );
    expect(outcomes).toEqual(Object.fromEntries(report.results.map((r) => [r.vmId, r.outcome])));
    expect(outcomes).toEqual({
      'vm-ok': 'Succeeded',
      'vm-warn': 'Warning',
      'vm-err': 'Failed',
      'vm-missing': 'Failed',
      'bad/id': 'InvalidId',
    });
    for (const e of events) {
      expect(e.data.baseData.properties.runId).toBe(report.runId);
      expect(e.tags?.['ai.operation.id']).toBe(OPERATION_ID);
    }
  });

  it('writes RunCompleted with the totals and the run metrics', () => {
    const [completed] = named(fake.envelopes, 'EventData', 'SnapshotCleanup.RunCompleted');
    expect(completed.data.baseData.properties).toMatchObject({ runId: report.runId, trigger: 'timer' });
    expect(completed.data.baseData.measurements).toMatchObject({
      targets: 5,
      succeeded: 1,
      warning: 1,
      failed: 2,
      invalid: 1,
    });
    const metrics = named(fake.envelopes, 'MetricData').flatMap(
      (e) => e.data.baseData.metrics as Array<{ name: string }>,
    );
    expect(metrics.map((m) => m.name)).toEqual(
      expect.arrayContaining([
        'SnapshotCleanup.VmsSucceeded',
        'SnapshotCleanup.VmsFailed',
        'SnapshotCleanup.RunDurationMs',
      ]),
    );
  });

  it('records the Veeam calls as dependencies without tokens, and the 404 VM as an exception with runId', () => {
    const dependencies = named(fake.envelopes, 'RemoteDependencyData');
    expect(dependencies.map((d) => d.data.baseData.name)).toEqual(
      expect.arrayContaining([
        'POST /api/oauth2/token',
        expect.stringMatching(/^POST \/api\/v8\.1\/protectedItem\/virtualMachines\//),
      ]),
    );
    for (const d of dependencies) expect(JSON.stringify(d)).not.toMatch(/Bearer|access_token|\?/);
    const exceptions = named(fake.envelopes, 'ExceptionData');
    expect(
      exceptions.some(
        (e) =>
          e.data.baseData.properties?.runId === report.runId &&
          e.data.baseData.properties?.vmId === 'vm-missing',
      ),
    ).toBe(true);
  });

  it('never sends the password', () => {
    expect(fake.bodies.join('\n')).not.toContain(CANARY);
    expect(run.stdout + run.stderr).not.toContain(CANARY);
  });
});
