import { HttpRequest, type HttpRequestInit } from '@azure/functions';
import type { SimulatorHandle } from '../../dev/simulator';
import { runSnapshotCleanup } from '../../functions/runSnapshotCleanup';
import { checkTightensOnly, parseCleanupRequest } from '../../shared/admin/cleanupRequest';
import * as cleanup from '../../shared/cleanup';
import { invalidateSecretCache } from '../../shared/config';
import type { Report } from '../../shared/report';
import { settingsFor, startAppliance, vms } from '../support/engine';
import { invocation, postCleanup, setEnv } from '../support/functions';

const DAY_MS = 86_400_000;

describe('POST /api/cleanup: what the body may ask for', () => {
  let appliance: SimulatorHandle;
  let restoreEnv: () => void;
  const fleet = [...vms(2), { id: 'vm-slow', sessionDurationMs: 60_000 }];

  beforeAll(async () => {
    appliance = await startAppliance({ vms: fleet });
    restoreEnv = setEnv(
      settingsFor(
        appliance,
        fleet.map((vm) => vm.id),
      ),
    );
  });
  afterAll(async () => {
    restoreEnv();
    await appliance.close();
  });
  beforeEach(() => {
    invalidateSecretCache();
    appliance.resetCounters();
  });

  async function call(request: HttpRequest) {
    const response = await runSnapshotCleanup(request, invocation('runSnapshotCleanup').context);
    return {
      ...response,
      headers: response.headers as Record<string, string>,
      jsonBody: response.jsonBody as Record<string, unknown>,
    };
  }

  function withSetting<T>(values: Record<string, string>, body: () => Promise<T>): Promise<T> {
    const restore = setEnv(values);
    invalidateSecretCache();
    return body().finally(restore);
  }

  describe('with CLEANUP_DRY_RUN=true', () => {
    it('refuses {"dryRun": false} with a 400 naming dryRun, before anything reaches the appliance', () =>
      withSetting({ CLEANUP_DRY_RUN: 'true' }, async () => {
        const response = await call(postCleanup(JSON.stringify({ vmIds: ['vm-001'], dryRun: false })));
        expect(response.status).toBe(400);
        expect(response.headers['content-type']).toBe('application/problem+json');
        expect(response.jsonBody.detail).toMatch(/dryRun may not be false while CLEANUP_DRY_RUN is true/);
        expect(response.jsonBody.invalidParams).toEqual([{ name: 'dryRun', reason: expect.any(String) }]);
        expect(appliance.counters.requestsByRoute).toEqual({});
      }));

    it.each([['{"dryRun": true}'], ['{}']])('runs %s as a dry run', (body) =>
      withSetting({ CLEANUP_DRY_RUN: 'true' }, async () => {
        const response = await call(postCleanup(JSON.stringify({ ...JSON.parse(body), vmIds: ['vm-001'] })));
        expect(response.status).toBe(200);
        expect((response.jsonBody as unknown as Report).results[0].outcome).toBe('WouldDelete');
        expect(appliance.counters.deleteCallsByVm).toEqual({});
      }),
    );
  });

  it('lets the body turn a dry run on when the configuration deletes', async () => {
    const response = await call(postCleanup(JSON.stringify({ vmIds: ['vm-002'], dryRun: true })));
    expect(response.status).toBe(200);
    expect((response.jsonBody as unknown as Report).dryRun).toBe(true);
    expect(appliance.counters.deleteCallsByVm).toEqual({});
  });

  it('passes minAge and keepLatest to the run as minAgeMs and keepLatest', async () => {
    const spy = jest.spyOn(cleanup, 'startRun');
    try {
      const body = { vmIds: ['vm-001'], dryRun: true, minAge: 'P7D', keepLatest: 2 };
      expect((await call(postCleanup(JSON.stringify(body)))).status).toBe(200);
      expect(spy).toHaveBeenCalledWith(
        expect.objectContaining({ retention: { minAgeMs: 7 * DAY_MS, keepLatest: 2 } }),
      );
      expect(await call(postCleanup(JSON.stringify({ ...body, minAge: 90 })))).toMatchObject({
        status: 200,
      });
      expect(spy).toHaveBeenLastCalledWith(
        expect.objectContaining({ retention: expect.objectContaining({ minAgeMs: 90_000 }) }),
      );
    } finally {
      spy.mockRestore();
    }
  });

  it.each([
    ['an age in months', '{"minAge":"P1M"}', /minAge must be an ISO-8601 duration/],
    ['an age of zero', '{"minAge":0}', /minAge must be greater than zero/],
    ['an age that is neither text nor a number', '{"minAge":true}', /minAge must be an ISO-8601 duration/],
    ['a negative count', '{"keepLatest":-1}', /keepLatest must be at least 0/],
    ['a fractional count', '{"keepLatest":1.5}', /keepLatest must be a whole number/],
  ])('answers 400 naming the field for %s', async (_name, body, detail) => {
    const response = await call(postCleanup(body));
    expect(response.status).toBe(400);
    expect(response.jsonBody.detail).toMatch(detail);
  });

  it.each([[1], [2], [0.5]])(
    'answers 400 naming waitSeconds for a wait of %s s that leaves nothing to submit',
    async (wait) => {
      const response = await call(postCleanup(JSON.stringify({ vmIds: ['vm-001'], waitSeconds: wait })));
      expect(response.status).toBe(400);
      expect(response.jsonBody.detail).toMatch(/^waitSeconds leaves no time to submit/);
      expect(response.jsonBody.invalidParams).toEqual([{ name: 'waitSeconds', reason: expect.any(String) }]);
      expect(appliance.counters.requestsByRoute).toEqual({});
    },
  );

  it('accepts the shortest wait that leaves time to submit', async () => {
    const response = await call(postCleanup(JSON.stringify({ vmIds: ['vm-001'], waitSeconds: 2.5 })));
    expect(response.status).toBe(200);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['a form', 'application/x-www-form-urlencoded'],
    ['a JSON look-alike', 'application/jsonp'],
  ])('answers 415 for a body sent as %s, and runs nothing', async (_name, contentType) => {
    const response = await call(
      postCleanup(JSON.stringify({ vmIds: ['vm-001'] }), { 'content-type': contentType }),
    );
    expect(response.status).toBe(415);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.jsonBody).toMatchObject({ status: 415, title: 'Unsupported Media Type' });
    expect(appliance.counters.requestsByRoute).toEqual({});
  });

  it.each([['application/json; charset=utf-8'], ['application/merge-patch+json'], ['Application/JSON']])(
    'accepts a body sent as %s',
    async (contentType) => {
      const response = await call(
        postCleanup(JSON.stringify({ vmIds: ['vm-001'], dryRun: true }), { 'content-type': contentType }),
      );
      expect(response.status).toBe(200);
    },
  );

  it('needs no Content-Type for an empty body', () => {
    expect(parseCleanupRequest('', null)).toEqual({ request: {} });
  });

  it('counts the wait from the request arrival, so a slow upload leaves nothing to submit', async () => {
    const encoder = new TextEncoder();
    // The body arrives 3.5 s after the request, past its 2.5 s wait.
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(encoder.encode('{"vmIds":["vm-001"],'));
        await new Promise((resolve) => setTimeout(resolve, 3_500));
        controller.enqueue(encoder.encode('"waitSeconds":2.5}'));
        controller.close();
      },
    });
    const url = 'http://localhost:7071/api/cleanup';
    const nativeRequest = new Request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit);
    // The same path the Functions host takes when it streams a request into the worker.
    const response = await call(new HttpRequest({ url, method: 'POST', nativeRequest } as HttpRequestInit));
    expect(response.status).toBe(202);
    const report = response.jsonBody as unknown as Report;
    expect(report.results).toEqual([
      expect.objectContaining({ vmId: 'vm-001', outcome: 'Skipped', error: 'deadline' }),
    ]);
    expect(appliance.counters.deleteCallsByVm).toEqual({});
  });
});

describe('checkTightensOnly: the body may only make the run more conservative', () => {
  const config = { dryRun: false, minAgeMs: 7 * DAY_MS, keepLatest: 2 };
  const names = (result: ReturnType<typeof checkTightensOnly>) =>
    (result?.jsonBody.invalidParams as Array<{ name: string }> | undefined)?.map((p) => p.name);

  it('accepts a larger age, a larger count and equal values', () => {
    expect(
      checkTightensOnly({ waitSeconds: 10, minAgeMs: 8 * DAY_MS, keepLatest: 3 }, config),
    ).toBeUndefined();
    expect(
      checkTightensOnly({ waitSeconds: 10, minAgeMs: 7 * DAY_MS, keepLatest: 2 }, config),
    ).toBeUndefined();
    expect(checkTightensOnly({ waitSeconds: 10 }, config)).toBeUndefined();
  });

  it('accepts any age and count when the configuration sets none', () => {
    expect(
      checkTightensOnly({ waitSeconds: 10, minAgeMs: 1_000, keepLatest: 0 }, { dryRun: false }),
    ).toBeUndefined();
  });

  it('refuses a shorter age and a smaller count, naming each field', () => {
    const result = checkTightensOnly({ waitSeconds: 10, minAgeMs: DAY_MS, keepLatest: 1 }, config);
    expect(result?.status).toBe(400);
    expect(names(result)).toEqual(['minAge', 'keepLatest']);
    expect(result?.jsonBody.detail).toMatch(/minAge may not be shorter than CLEANUP_MIN_AGE/);
    expect(result?.jsonBody.detail).toMatch(/keepLatest may not be smaller than CLEANUP_KEEP_LATEST/);
  });

  it('refuses dryRun false only while the configuration says dry run', () => {
    expect(names(checkTightensOnly({ waitSeconds: 10, dryRun: false }, { dryRun: true }))).toEqual([
      'dryRun',
    ]);
    expect(checkTightensOnly({ waitSeconds: 10, dryRun: false }, { dryRun: false })).toBeUndefined();
  });
});
