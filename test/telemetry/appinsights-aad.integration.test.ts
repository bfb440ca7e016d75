import { ConfigError } from '../../shared/errors';
import { createTelemetryFromEnv, parseAuthenticationString } from '../../shared/telemetry/fromEnv';
import { startFakeIngestion, type FakeIngestion } from '../support/fake-ingestion';
import { startFakeManagedIdentity, type FakeManagedIdentity } from '../support/fake-managed-identity';
import { runTelemetryChild, type ChildRun } from './childProcess';

const CLIENT_ID = '6a1e7c2d-0b9f-4c3e-8d21-5f4a3b2c1d0e';
const TOKEN = 'mi-token-canary-7f3a91';
// Each case starts a child that loads the SDK through ts-register: slow on a busy 2-core runner.
jest.setTimeout(120_000);

const CHILD = { canary: 'unused', traceParent: '', flushTimeoutMs: 5000, runner: 'fromEnv' as const };

describe('App Insights with local auth disabled: events carry a managed-identity token (real SDK, child process)', () => {
  let ingestion: FakeIngestion;
  let identity: FakeManagedIdentity;
  let run: ChildRun;

  beforeAll(async () => {
    ingestion = await startFakeIngestion();
    identity = await startFakeManagedIdentity({ token: TOKEN });
    run = await runTelemetryChild({
      ...CHILD,
      ingestionUrl: ingestion.url,
      caFile: ingestion.caFile,
      env: {
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${CLIENT_ID};Authorization=AAD`,
        IDENTITY_ENDPOINT: identity.url,
        IDENTITY_HEADER: identity.header,
      },
    });
  });
  afterAll(async () => {
    await ingestion.close();
    await identity.close();
  });

  it('sends the event and the metric with Authorization: Bearer <token from the managed-identity endpoint>', () => {
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ flushReturned: true });
    expect(run.guardLog).toBe('');
    const names = ingestion.envelopes.map((e) => e.data.baseData.name ?? e.data.baseData.metrics?.[0]?.name);
    expect(names).toEqual(
      expect.arrayContaining(['SnapshotCleanup.RunCompleted', 'SnapshotCleanup.VmsSucceeded']),
    );
    const tracks = ingestion.requests.filter((r) => r.path.startsWith('/v2.1/track'));
    expect(tracks.length).toBeGreaterThan(0);
    for (const request of tracks) expect(request.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('asks the identity endpoint for the monitor audience as the user-assigned identity of ClientId', () => {
    expect(identity.requests.length).toBeGreaterThan(0);
    for (const request of identity.requests) {
      expect(request).toMatchObject({
        resource: 'https://monitor.azure.com',
        clientId: CLIENT_ID,
        headerOk: true,
      });
    }
  });

  it('never prints the token', () => {
    expect(run.stdout + run.stderr).not.toContain(TOKEN);
  });
});

describe('App Insights without an authentication string', () => {
  it('sends with the instrumentation key only (no bearer token, no identity call)', async () => {
    const ingestion = await startFakeIngestion();
    const identity = await startFakeManagedIdentity({ token: TOKEN });
    try {
      const run = await runTelemetryChild({
        ...CHILD,
        ingestionUrl: ingestion.url,
        caFile: ingestion.caFile,
        env: { IDENTITY_ENDPOINT: identity.url, IDENTITY_HEADER: identity.header },
      });
      expect(run.code).toBe(0);
      expect(ingestion.envelopes.length).toBeGreaterThan(0);
      expect(ingestion.requests.every((r) => r.authorization === undefined)).toBe(true);
      expect(identity.requests).toEqual([]);
    } finally {
      await ingestion.close();
      await identity.close();
    }
  });
});

describe('APPLICATIONINSIGHTS_AUTHENTICATION_STRING', () => {
  const CONNECTION =
    'InstrumentationKey=00000000-1111-2222-3333-444444444444;IngestionEndpoint=https://127.0.0.1:9/';

  it.each([
    [`ClientId=${CLIENT_ID};Authorization=AAD`, { clientId: CLIENT_ID }],
    [`Authorization=AAD;ClientId=${CLIENT_ID}`, { clientId: CLIENT_ID }],
    [` authorization = aad ; clientid = ${CLIENT_ID} ;`, { clientId: CLIENT_ID }],
    ['Authorization=AAD', { clientId: undefined }],
  ])('parses %j', (raw, expected) => {
    expect(parseAuthenticationString(raw)).toEqual(expected);
  });

  it.each([
    'ClientId=6a1e7c2d-0b9f-4c3e-8d21-5f4a3b2c1d0e',
    'Authorization=Key',
    'Authorization=AAD;ClientId=not-a-guid-secret-canary',
    'Authorization=AAD;Secret=secret-canary',
    'Authorization=AAD;Authorization=AAD',
    'secret-canary',
  ])('rejects %j with a ConfigError that names the setting and not the value', (raw) => {
    let error: unknown;
    try {
      createTelemetryFromEnv(
        { APPLICATIONINSIGHTS_CONNECTION_STRING: CONNECTION, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: raw },
        () => {
          throw new Error('fallback must not be used');
        },
      );
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe('APPLICATIONINSIGHTS_AUTHENTICATION_STRING');
    expect((error as Error).message).not.toMatch(/canary|not-a-guid/);
  });
});
