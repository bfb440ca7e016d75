import { PassThrough } from 'node:stream';
import { computeTotals, type Report, type VmResult } from '../../shared/report';
import {
  createAppInsightsTelemetry,
  createConsoleTelemetry,
  createMemoryTelemetry,
  createTelemetryFromEnv,
  operationFromTraceParent,
  reportToTelemetry,
  scrubText,
  TELEMETRY_NAMES,
  withRunContext,
} from '../../shared/telemetry';
import { boundedFlush } from '../../shared/telemetry/boundedFlush';
import { ConfigError } from '../../shared/errors';

const CANARY = 'canary-7c2b9e';

type Result = Omit<VmResult, 'appliance'> & { appliance?: string };

function report(given: Result[], extra: Partial<Report> = {}): Report {
  const results: VmResult[] = given.map((r) => ({ appliance: 'default', ...r }));
  return {
    runId: 'run-1',
    trigger: 'http',
    apiVersion: 'v1',
    dryRun: true,
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:00:05Z',
    durationMs: 5000,
    duplicatesRemoved: 0,
    totals: computeTotals(results),
    results,
    appliances: [
      {
        name: 'default',
        origin: 'https://veeam.example.com',
        apiVersion: 'v1',
        totals: computeTotals(results),
      },
    ],
    ...extra,
  };
}

describe('reportToTelemetry', () => {
  it('writes one VmResult per VM, ApplianceCompleted, RunCompleted and the metrics, all with runId, trigger and appliance', () => {
    const memory = createMemoryTelemetry();
    reportToTelemetry(
      report([
        { vmId: 'a', outcome: 'WouldDelete', attempts: 0, durationMs: 10 },
        { vmId: 'b', outcome: 'InvalidId', attempts: 0, durationMs: 0, error: 'not a VM id' },
        { vmId: 'c', outcome: 'Skipped', attempts: 0, durationMs: 1, error: 'not protected' },
      ]),
      memory,
    );
    expect(memory.events.map((e) => e.name)).toEqual([
      'SnapshotCleanup.VmResult',
      'SnapshotCleanup.VmResult',
      'SnapshotCleanup.VmResult',
      'SnapshotCleanup.ApplianceCompleted',
      'SnapshotCleanup.RunCompleted',
    ]);
    expect(memory.events[1]).toEqual({
      name: 'SnapshotCleanup.VmResult',
      properties: {
        runId: 'run-1',
        trigger: 'http',
        apiVersion: 'v1',
        dryRun: 'true',
        vmId: 'b',
        appliance: 'default',
        outcome: 'InvalidId',
        error: 'not a VM id',
      },
      measurements: { durationMs: 0, attempts: 0 },
    });
    expect(memory.events[4].properties.appliance).toBe('default');
    expect(memory.events[4].measurements).toMatchObject({
      targets: 3,
      wouldDelete: 1,
      invalid: 1,
      skipped: 1,
      durationMs: 5000,
    });
    expect(memory.metrics).toEqual([
      {
        name: 'SnapshotCleanup.VmsSucceeded',
        value: 1,
        properties: {
          runId: 'run-1',
          trigger: 'http',
          apiVersion: 'v1',
          dryRun: 'true',
          appliance: 'default',
        },
      },
      {
        name: 'SnapshotCleanup.VmsFailed',
        value: 2,
        properties: {
          runId: 'run-1',
          trigger: 'http',
          apiVersion: 'v1',
          dryRun: 'true',
          appliance: 'default',
        },
      },
      {
        name: 'SnapshotCleanup.RunDurationMs',
        value: 5000,
        properties: {
          runId: 'run-1',
          trigger: 'http',
          apiVersion: 'v1',
          dryRun: 'true',
          appliance: 'default',
        },
      },
    ]);
  });

  it('splits events and metrics by appliance in a run over several', () => {
    const memory = createMemoryTelemetry();
    const results: VmResult[] = [
      { vmId: 'x', appliance: 'weu', outcome: 'Succeeded', attempts: 1, durationMs: 5, deletedSnapshots: 2 },
      { vmId: 'x', appliance: 'customer-b', outcome: 'Skipped', attempts: 0, durationMs: 0 },
      {
        vmId: 'y',
        appliance: 'weu',
        outcome: 'Excluded',
        attempts: 0,
        durationMs: 0,
        excludedBy: 'controller VM',
      },
    ];
    reportToTelemetry(
      {
        ...report([]),
        results,
        totals: computeTotals(results),
        appliances: [
          {
            name: 'weu',
            origin: 'https://a.example',
            apiVersion: 'v8.1',
            totals: computeTotals(results.filter((r) => r.appliance === 'weu')),
          },
          {
            name: 'customer-b',
            origin: 'https://10.20.0.4',
            apiVersion: null,
            totals: computeTotals(results.filter((r) => r.appliance === 'customer-b')),
            failure: { kind: 'unreachable', message: 'refused' },
          },
        ],
      },
      memory,
    );
    const appliances = memory.events.filter((e) => e.name === 'SnapshotCleanup.ApplianceCompleted');
    expect(
      appliances.map((e) => [e.properties.appliance, e.properties.applianceOrigin, e.properties.failureKind]),
    ).toEqual([
      ['weu', 'https://a.example', undefined],
      ['customer-b', 'https://10.20.0.4', 'unreachable'],
    ]);
    expect(appliances[0].measurements).toMatchObject({ targets: 2, succeeded: 1, excluded: 1 });
    const vm = memory.events.filter((e) => e.name === 'SnapshotCleanup.VmResult');
    expect(vm.map((e) => [e.properties.appliance, e.properties.vmId, e.properties.excludedBy])).toEqual([
      ['weu', 'x', undefined],
      ['customer-b', 'x', undefined],
      ['weu', 'y', 'controller VM'],
    ]);
    const metric = (name: string) =>
      memory.metrics.filter((m) => m.name === name).map((m) => [m.properties.appliance, m.value]);
    expect(metric('SnapshotCleanup.VmsSucceeded')).toEqual([
      ['weu', 2],
      ['customer-b', 0],
    ]);
    expect(metric('SnapshotCleanup.VmsFailed')).toEqual([
      ['weu', 0],
      ['customer-b', 1],
    ]);
    expect(metric('SnapshotCleanup.SnapshotsDeleted')).toEqual([['weu', 2]]);
    expect(metric('SnapshotCleanup.RunDurationMs')).toEqual([['weu,customer-b', 5000]]);
    for (const item of [...memory.events, ...memory.metrics]) expect(item.properties.appliance).toBeTruthy();
  });

  it('carries a run failure (appliance unreachable) on RunCompleted, without apiVersion', () => {
    const memory = createMemoryTelemetry();
    reportToTelemetry(
      report([], {
        apiVersion: null,
        failure: { kind: 'auth', message: `login refused, password=${CANARY}` },
      }),
      memory,
    );
    const runCompleted = memory.events.find((e) => e.name === 'SnapshotCleanup.RunCompleted');
    expect(runCompleted?.properties).toEqual({
      runId: 'run-1',
      trigger: 'http',
      dryRun: 'true',
      appliance: 'default',
      failureKind: 'auth',
      failureMessage: 'login refused, password=[REDACTED]',
    });
  });

  it('emits only names listed in TELEMETRY_NAMES', () => {
    const memory = createMemoryTelemetry();
    const log = [{ time: 't', status: 'Error', message: 'm' }];
    reportToTelemetry(
      report(
        [
          {
            vmId: 'a',
            outcome: 'Failed',
            sessionId: 's',
            sessionStatus: 'Failed',
            attempts: 1,
            durationMs: 1,
            error: 'e',
            log,
          },
        ],
        {
          failure: { kind: 'tls', message: 'x' },
        },
      ),
      withRunContext(memory, { runId: 'run-1', trigger: 'http', operationId: 'op' }),
    );
    const names: readonly string[] = TELEMETRY_NAMES.properties;
    const measurementNames: readonly string[] = TELEMETRY_NAMES.measurements;
    for (const item of [...memory.events, ...memory.metrics]) {
      for (const key of Object.keys(item.properties))
        expect(names.concat('operationParentId')).toContain(key);
    }
    for (const event of memory.events)
      for (const key of Object.keys(event.measurements)) expect(measurementNames).toContain(key);
  });
});

describe('withRunContext', () => {
  it('adds runId, trigger and the operation to events, metrics, exceptions and dependencies', () => {
    const memory = createMemoryTelemetry();
    const telemetry = withRunContext(memory, {
      runId: 'r',
      trigger: 'timer',
      ...operationFromTraceParent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'),
    });
    const context = {
      runId: 'r',
      trigger: 'timer',
      operationId: '4bf92f3577b34da6a3ce929d0e0e4736',
      operationParentId: '00f067aa0ba902b7',
    };
    telemetry.trackEvent('E', { runId: 'caller-value', x: '1' });
    telemetry.trackMetric('M', 1);
    telemetry.trackException(new Error('boom'));
    telemetry.trackDependency({
      name: 'GET /api/v1/x',
      target: 'https://a',
      resultCode: 200,
      durationMs: 1,
      success: true,
    });
    expect(memory.events[0].properties).toEqual({ ...context, x: '1' });
    expect(memory.metrics[0].properties).toEqual(context);
    expect(memory.exceptions[0].properties).toEqual(context);
    expect(memory.dependencies[0].properties).toEqual(context);
  });

  it('parses only well-formed traceparents', () => {
    expect(operationFromTraceParent('garbage')).toEqual({});
    expect(operationFromTraceParent(undefined)).toEqual({});
  });
});

describe('scrubbing', () => {
  it.each([
    `Authorization: Bearer ${CANARY}`,
    `Basic ${CANARY}==`,
    `https://x/api?access_token=${CANARY}&a=1`,
    `grant_type=password&username=u&password=${CANARY}`,
    `{"refresh_token":"${CANARY}"}`,
    `https://admin:${CANARY}@host/`,
    `eyJhbGciOiJI.eyJzdWIiOiIx${CANARY}.sig`,
    `client_secret: ${CANARY}`,
  ])('removes the secret from %s', (text) => {
    expect(scrubText(text)).not.toContain(CANARY);
    expect(scrubText(text)).toContain('[REDACTED]');
  });

  it('leaves ordinary text alone', () => {
    const text = 'Session 3f2a finished with Warning; resultCode=409 on /api/v8.1/jobSessions/3f2a';
    expect(scrubText(text)).toBe(text);
  });

  it('scrubs every path of the console sink, including exception messages and dependency URLs', () => {
    const stream = new PassThrough();
    let output = '';
    stream.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const telemetry = createConsoleTelemetry({ stream });
    telemetry.trackEvent('E', { note: `Bearer ${CANARY}` }, { n: 1 });
    telemetry.trackMetric('M', 2, { note: `token=${CANARY}` });
    telemetry.trackException(new Error(`failed with password=${CANARY}`));
    telemetry.trackDependency({
      name: `GET /api/v1/x?access_token=${CANARY}`,
      target: `https://u:${CANARY}@appliance:443/api/v1/x?access_token=${CANARY}`,
      resultCode: 401,
      durationMs: 3,
      success: false,
    });
    const lines = output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.type)).toEqual(['event', 'metric', 'exception', 'dependency']);
    expect(lines[3]).toMatchObject({
      name: 'GET /api/v1/x',
      target: 'https://appliance/api/v1/x',
      resultCode: 401,
    });
    expect(output).not.toContain(CANARY);
  });

  it('scrubs exception stacks in the memory sink and leaves the caller’s error untouched', () => {
    const memory = createMemoryTelemetry();
    const error = new Error(`refresh_token=${CANARY}`);
    memory.trackException(error);
    expect(memory.exceptions[0].error.message).toBe('refresh_token=[REDACTED]');
    expect(memory.exceptions[0].error.stack).not.toContain(CANARY);
    expect(error.message).toContain(CANARY);
  });
});

describe('createTelemetryFromEnv', () => {
  it('uses the fallback when the connection string is absent or blank', () => {
    const fallback = createMemoryTelemetry();
    expect(createTelemetryFromEnv({}, () => fallback)).toBe(fallback);
    expect(createTelemetryFromEnv({ APPLICATIONINSIGHTS_CONNECTION_STRING: '  ' }, () => fallback)).toBe(
      fallback,
    );
  });

  it('chooses App Insights when the connection string is set (without loading the SDK yet)', async () => {
    const fallback = createMemoryTelemetry();
    const telemetry = createTelemetryFromEnv(
      {
        APPLICATIONINSIGHTS_CONNECTION_STRING:
          'InstrumentationKey=00000000-1111-2222-3333-444444444444;IngestionEndpoint=https://127.0.0.1:9/',
      },
      () => fallback,
    );
    expect(telemetry).not.toBe(fallback);
    await expect(telemetry.flush(10)).resolves.toBeUndefined();
  });
});

describe('boundedFlush', () => {
  it('resolves when the flush never settles', async () => {
    await expect(boundedFlush(() => new Promise(() => undefined), 20)).resolves.toBeUndefined();
  });

  it('resolves when the flush rejects or throws', async () => {
    await expect(
      boundedFlush(() => Promise.reject(new Error('ingestion down')), 1000),
    ).resolves.toBeUndefined();
    await expect(
      boundedFlush(() => {
        throw new Error('sync');
      }, 1000),
    ).resolves.toBeUndefined();
  });

  it('waits for a flush that finishes in time', async () => {
    let done = false;
    await boundedFlush(async () => {
      await new Promise((r) => setTimeout(r, 10));
      done = true;
    }, 5000);
    expect(done).toBe(true);
  });
});

describe('createAppInsightsTelemetry', () => {
  it('rejects a connection string without a valid instrumentation key, naming the setting and not the value', () => {
    const bad = `InstrumentationKey=${CANARY};IngestionEndpoint=https://127.0.0.1:9/`;
    expect(() => createAppInsightsTelemetry({ connectionString: bad })).toThrow(ConfigError);
    expect(() => createAppInsightsTelemetry({ connectionString: bad })).toThrow(
      /APPLICATIONINSIGHTS_CONNECTION_STRING/,
    );
    try {
      createAppInsightsTelemetry({ connectionString: bad });
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(CANARY);
    }
  });
});
