/**
 * Validates the simulator's v8.1 answers against the official VBAzure v8.1 OpenAPI schemas. The official
 * document lives beside the repository (../shared/reference); a trimmed extract is vendored so the
 * validation still runs without it, but the test that compares the two fails loudly when it is missing.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startSimulator, type SimulatorHandle } from '../../dev/simulator';
import { extractContract, type ContractExtract } from '../../dev/simulator/extract-schemas';
import { createVeeamClient } from '../../shared/veeam/client';
import { call, login, tokenRequest, USER, waitForEnd, type Reply } from './helpers';

const OFFICIAL = path.resolve(__dirname, '../../../shared/reference/vbazure-rest-v8.1.openapi.json');
const VENDORED = path.resolve(__dirname, 'fixtures/vbazure-v8.1-schemas.json');

const vendored = JSON.parse(readFileSync(VENDORED, 'utf8')) as ContractExtract;
const official: ContractExtract | undefined = existsSync(OFFICIAL)
  ? extractContract(JSON.parse(readFileSync(OFFICIAL, 'utf8')))
  : undefined;
const contract = official ?? vendored;

function compile(extract: ContractExtract) {
  // strict:false tolerates the x-* and readOnly annotations; Ajv's own `nullable` support covers OpenAPI 3.0.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('time-span', /^(\d+\.)?\d{2}:\d{2}:\d{2}(\.\d{1,7})?$/);
  ajv.addSchema({ $id: 'vbazure', components: { schemas: extract.schemas } });
  return {
    schemaNamed(name: string): ValidateFunction {
      const validate = ajv.getSchema(`vbazure#/components/schemas/${name}`);
      if (!validate) throw new Error(`no schema ${name}`);
      return validate;
    },
    /** An inline schema (a parameter's), its #/components refs read in the extract. */
    inline(schema: unknown): ValidateFunction {
      return ajv.compile(
        JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"vbazure#/components/')),
      );
    },
  };
}

const { schemaNamed, inline } = compile(contract);

type QueryPairs = Array<[string, string]>;

/** A query value as the type its schema names (the appliance binds query text to that type). */
function typed(schema: Record<string, unknown>, value: string): unknown {
  const ref = typeof schema.$ref === 'string' ? schema.$ref.split('/').pop()! : undefined;
  const type = ref ? (contract.schemas[ref] as { type?: string }).type : schema.type;
  if (type === 'integer') return /^-?\d+$/.test(value) ? Number(value) : value;
  if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

/**
 * What is wrong with a query for `operation`, by the document: undeclared names (case-sensitive), a
 * repeated scalar, values invalid for their schema. Array parameters have no `style`, so OpenAPI's
 * form/explode applies: one `Name=value` per element, which a bracketed or comma-joined list fails.
 */
function queryProblems(operation: string, pairs: QueryPairs): string[] {
  const declared = new Map(contract.queries[operation].map((p) => [p.name, p]));
  const counts = new Map<string, number>();
  for (const [name] of pairs) counts.set(name, (counts.get(name) ?? 0) + 1);
  const problems = [...declared.values()]
    .filter((p) => p.required && !counts.has(p.name))
    .map((p) => `${p.name}: required`);
  for (const [name, count] of counts) {
    if (count > 1 && declared.get(name)?.schema.type !== 'array')
      problems.push(`${name}: repeated, but not an array`);
  }
  for (const [name, value] of pairs) {
    const parameter = declared.get(name);
    if (!parameter) {
      problems.push(`${name}: not a documented parameter`);
      continue;
    }
    const schema = (parameter.schema.type === 'array' ? parameter.schema.items : parameter.schema) as Record<
      string,
      unknown
    >;
    const validate = inline(schema);
    if (!validate(typed(schema, value)))
      problems.push(`${name}=${value}: ${JSON.stringify(validate.errors)}`);
  }
  return problems;
}

/** The query of a request line, as [name, value] pairs in order, percent-decoded. */
function queryOf(line: string): QueryPairs {
  const query = line.slice(line.indexOf('?') + 1);
  return query.split('&').map((pair) => {
    const at = pair.indexOf('=');
    return [decodeURIComponent(pair.slice(0, at)), decodeURIComponent(pair.slice(at + 1))];
  });
}

/** Asserts that `reply` has `status` and a body valid for the schema the document declares for it. */
function expectConforms(operation: string, status: number, reply: Reply): void {
  expect(reply.status).toBe(status);
  const name = contract.operations[`${operation} ${status}`];
  expect(name).toBeDefined();
  const validate = schemaNamed(name);
  const valid = validate(reply.json);
  expect({ operation, status, errors: valid ? null : validate.errors }).toEqual({
    operation,
    status,
    errors: null,
  });
}

describe('simulator v8.1 OpenAPI contract', () => {
  it('has the official OpenAPI document beside the repository, and the vendored extract matches it', () => {
    if (!official) throw new Error(`The official VBAzure v8.1 OpenAPI document is missing at ${OFFICIAL}`);
    expect(vendored).toEqual(official);
  });

  it('catches drift: a v1-style session (usn) does not pass as a v8.1 JobSession', () => {
    const validate = schemaNamed('JobSession');
    expect(validate({ id: '1', status: 'Running', usn: 0 })).toBe(false);
    expect(validate({ id: '1', status: 'Finished' })).toBe(false);
    expect(validate({ id: '1', status: 'Running', executionDuration: '2.5 s' })).toBe(false);
    expect(validate({ id: '1', status: 'Running', executionDuration: '00:00:02.5000000' })).toBe(true);
  });

  describe('answers', () => {
    let sim: SimulatorHandle;
    let token: string;
    beforeAll(async () => {
      sim = await startSimulator({
        vms: [
          { id: 'vm-ok', name: 'web-01', sessionDurationMs: 20 },
          { id: 'vm-warn', name: 'app-02', sessionDurationMs: 20, outcome: 'Warning' },
          { id: 'vm-error', name: 'db-03', sessionDurationMs: 20, outcome: 'Error' },
          { id: 'vm-long', name: 'big-04', sessionDurationMs: 60_000 },
        ],
      });
      token = await login(sim);
    });
    afterAll(() => sim.close());

    const get = (p: string, withToken = true) => call(`${sim.url}${p}`, withToken ? { token } : {});
    const post = (p: string, body?: string, withToken = true) =>
      call(`${sim.url}${p}`, { method: 'POST', body, ...(withToken ? { token } : {}) });

    it('token: Login, ProblemDetails400, ProblemDetailsTraceId', async () => {
      expectConforms(
        'POST /api/oauth2/token',
        200,
        await tokenRequest(sim, { grant_type: 'Password', ...USER }),
      );
      const first = await tokenRequest(sim, { grant_type: 'Password', ...USER });
      expectConforms(
        'POST /api/oauth2/token',
        200,
        await tokenRequest(sim, { grant_type: 'Refresh_token', refresh_token: first.json.refresh_token }),
      );
      expectConforms('POST /api/oauth2/token', 400, await tokenRequest(sim, { username: 'x' }));
      expectConforms(
        'POST /api/oauth2/token',
        401,
        await tokenRequest(sim, { grant_type: 'Password', username: 'x', password: 'y' }),
      );
    });

    it('system/about, virtual machines and restore points', async () => {
      expectConforms('GET /api/v8.1/system/about', 200, await get('/api/v8.1/system/about'));
      expectConforms('GET /api/v8.1/virtualMachines', 200, await get('/api/v8.1/virtualMachines?Limit=2'));
      expectConforms('GET /api/v8.1/virtualMachines', 400, await get('/api/v8.1/virtualMachines?Offset=-1'));
      expectConforms('GET /api/v8.1/virtualMachines', 401, await get('/api/v8.1/virtualMachines', false));
      expectConforms('GET /api/v8.1/virtualMachines/{id}', 200, await get('/api/v8.1/virtualMachines/vm-ok'));
      expectConforms(
        'GET /api/v8.1/restorePoints/virtualMachines',
        200,
        await get('/api/v8.1/restorePoints/virtualMachines?VirtualMachineId=vm-ok'),
      );
    });

    it('deletes, sessions in every state, logs, pages and problems', async () => {
      const single = 'POST /api/v8.1/protectedItem/virtualMachines/{id}/deleteManualSnapshots';
      const batch = 'POST /api/v8.1/protectedItem/virtualMachines/deleteManualSnapshots';
      const base = '/api/v8.1/protectedItem/virtualMachines';
      const sessions: Reply[] = [];
      for (const id of ['vm-ok', 'vm-warn', 'vm-error', 'vm-long']) {
        const reply = await post(`${base}/${id}/deleteManualSnapshots`);
        expectConforms(single, 202, reply);
        sessions.push(reply);
      }
      expectConforms(single, 401, await post(`${base}/vm-ok/deleteManualSnapshots`, undefined, false));
      expectConforms(single, 404, await post(`${base}/ghost/deleteManualSnapshots`));
      const batchReply = await post(
        `${base}/deleteManualSnapshots`,
        JSON.stringify({ ids: ['vm-error', 'vm-long'] }),
      );
      expectConforms(batch, 202, batchReply);
      sessions.push(batchReply);
      expectConforms(batch, 400, await post(`${base}/deleteManualSnapshots`, '{"ids":"vm-ok"}'));
      expectConforms(batch, 404, await post(`${base}/deleteManualSnapshots`, '{"ids":["ghost"]}'));

      for (const { json } of sessions.slice(0, 3)) await waitForEnd(json._links.self.href, token);
      for (const { json } of sessions) {
        expectConforms(
          'GET /api/v8.1/jobSessions/{sessionId}',
          200,
          await call(json._links.self.href, { token }),
        );
        expectConforms(
          'GET /api/v8.1/jobSessions/{sessionId}/log',
          200,
          await call(json._links.log.href, { token }),
        );
      }
      expectConforms('GET /api/v8.1/jobSessions/{sessionId}', 404, await get('/api/v8.1/jobSessions/nope'));
      const page = await get('/api/v8.1/jobSessions?Limit=10');
      expectConforms('GET /api/v8.1/jobSessions', 200, page);
      expect(new Set(page.json.results.map((s: { status: string }) => s.status))).toEqual(
        new Set(['Success', 'Warning', 'Error', 'Running']),
      );
      expectConforms('GET /api/v8.1/jobSessions', 400, await get('/api/v8.1/jobSessions?Status=Done'));
    });

    it('per-point restore point routes: GET 200/404, DELETE 202/401/404/423, their sessions and logs', async () => {
      const one = 'GET /api/v8.1/restorePoints/virtualMachines/{restorePointId}';
      const remove = 'DELETE /api/v8.1/restorePoints/virtualMachines/{restorePointId}';
      const pointUrl = (id: string) => `/api/v8.1/restorePoints/virtualMachines/${id}`;
      const del = (id: string, withToken = true) =>
        call(`${sim.url}${pointUrl(id)}`, { method: 'DELETE', ...(withToken ? { token } : {}) });
      sim.setVm({
        id: 'vm-points',
        name: 'points-05',
        sessionDurationMs: 20,
        restorePoints: [
          { ageMs: 3_600_000 },
          { ageMs: 90 * 86_400_000, immutableForMs: 86_400_000 },
          { ageMs: 40 * 86_400_000, locked: true },
          { backupDestination: 'Snapshot' },
          { backupDestination: 'AzureBlob', immutableForMs: -86_400_000 },
        ],
      });
      const [fresh, immutable, lockedPoint, snapshot] = sim
        .getVm('vm-points')!
        .restorePoints.map((p) => p.id);
      const listing = await get('/api/v8.1/restorePoints/virtualMachines?VirtualMachineId=vm-points&Limit=3');
      expectConforms('GET /api/v8.1/restorePoints/virtualMachines', 200, listing);
      expect(listing.json.results).toHaveLength(3);
      expectConforms(
        'GET /api/v8.1/restorePoints/virtualMachines',
        400,
        await get('/api/v8.1/restorePoints/virtualMachines?Offset=-1'),
      );
      for (const id of [fresh, immutable, snapshot]) expectConforms(one, 200, await get(pointUrl(id)));
      expectConforms(one, 404, await get(pointUrl('00000000-0000-4000-8000-00000000dead')));

      expectConforms(remove, 401, await del(fresh, false));
      expectConforms(remove, 423, await del(immutable));
      expectConforms(remove, 423, await del(lockedPoint));
      const sessions = [await del(fresh), await del(snapshot)];
      for (const reply of sessions) expectConforms(remove, 202, reply);
      for (const { json } of sessions) {
        await waitForEnd(json._links.self.href, token);
        expectConforms(
          'GET /api/v8.1/jobSessions/{sessionId}',
          200,
          await call(json._links.self.href, { token }),
        );
        expectConforms(
          'GET /api/v8.1/jobSessions/{sessionId}/log',
          200,
          await call(json._links.log.href, { token }),
        );
      }
      expectConforms(remove, 404, await del(fresh));
      sim.addFault({ route: 'v8.1.deleteRestorePoint', kind: 'vanish', times: 1 });
      expectConforms(remove, 404, await del(sim.getVm('vm-points')!.restorePoints[0].id));
    });

    it('discovery listings and fields: controller, deleted VMs, every filter', async () => {
      sim.setVm({ id: 'vm-ctl', name: 'vbazure-appliance', isController: true, manualSnapshots: 1 });
      sim.setVm({ id: 'vm-gone', name: 'gone-06', isDeleted: true, regionName: 'ukwest' });
      const vm = (await get('/api/v8.1/virtualMachines/vm-gone')).json;
      expectConforms(
        'GET /api/v8.1/virtualMachines/{id}',
        200,
        await get('/api/v8.1/virtualMachines/vm-ctl'),
      );
      const query =
        `BackupDestination=ManualSnapshot&SubscriptionId=${vm.subscriptionId}&RegionIds=ukwest&RegionIds=eastus` +
        '&SearchPattern=GONE&ExistsState=All&Offset=0&Limit=50';
      const filtered = await get(`/api/v8.1/virtualMachines?${query}`);
      expectConforms('GET /api/v8.1/virtualMachines', 200, filtered);
      expect(filtered.json.results.map((v: { id: string }) => v.id)).toEqual(['vm-gone']);
      expectConforms(
        'GET /api/v8.1/virtualMachines',
        400,
        await get('/api/v8.1/virtualMachines?SubscriptionId=nope'),
      );
    });

    it('session listings with the run filters, and non-deletion sessions', async () => {
      const backup = sim.addSession({ type: 'PolicyBackup', vmIds: ['vm-ok'], durationMs: 60_000 });
      const manual = sim.addSession({
        type: 'ManualSnapshot',
        vmIds: ['vm-ok', 'vm-warn'],
        outcome: 'Error',
      });
      for (const { id } of [backup, manual]) {
        expectConforms(
          'GET /api/v8.1/jobSessions/{sessionId}',
          200,
          await get(`/api/v8.1/jobSessions/${id}`),
        );
        expectConforms(
          'GET /api/v8.1/jobSessions/{sessionId}/log',
          200,
          await get(`/api/v8.1/jobSessions/${id}/log`),
        );
      }
      const from = new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
      const listing = await get(
        `/api/v8.1/jobSessions?Types=ManualSnapshotDeletion&Types=SnapshotDeletion&Status=Running&Status=Success` +
          `&FromUtc=${from}&ResourceId=vm-ok&Offset=0&Limit=100`,
      );
      expectConforms('GET /api/v8.1/jobSessions', 200, listing);
      expectConforms('GET /api/v8.1/jobSessions', 200, await get('/api/v8.1/jobSessions?Types=PolicyBackup'));
      expectConforms('GET /api/v8.1/jobSessions', 400, await get('/api/v8.1/jobSessions?FromUtc=today'));
    });

    it('injected 429 follows ProblemDetails429', async () => {
      sim.clearFaults();
      sim.addFault({ route: 'v8.1.about', kind: 'status', status: 429, retryAfter: '1', times: 1 });
      const reply = await get('/api/v8.1/system/about');
      expect(reply.status).toBe(429);
      const validate = schemaNamed('ProblemDetails429');
      expect(validate(reply.json) ? null : validate.errors).toBeNull();
    });
  });

  describe('discovery requests the client sends', () => {
    const LIST = 'GET /api/v8.1/virtualMachines';
    const SUBS = ['3a9a4930-0000-4000-8000-00000000000a', '3a9a4930-0000-4000-8000-00000000000b'];
    let sim: SimulatorHandle;
    beforeAll(async () => {
      sim = await startSimulator({
        recordRequests: true,
        controller: true,
        subscriptionIds: SUBS,
        regions: ['westeurope', 'ukwest'],
        fleet: { count: 16, namePrefixes: ['app x-', 'sql-'], deletedRate: 0.3 },
      });
    });
    afterAll(() => sim.close());

    it('every filter: documented names, arrays exploded, values valid for their schema and enum', async () => {
      const client = createVeeamClient({ baseUrl: sim.url, ...USER, apiVersion: 'v8.1' });
      try {
        const found = await client.listVirtualMachines({
          filter: { subscriptionIds: SUBS, regions: ['westeurope', 'ukwest'], nameContains: 'app x' },
          pageSize: 2,
        });
        expect(found.length).toBeGreaterThan(2);
        await client.listVirtualMachines({ manualSnapshotsOnly: false });
      } finally {
        client.close();
      }
      const queries = sim.requestLog.filter((line) => line.startsWith(`${LIST}?`)).map(queryOf);
      // Two subscriptions, paged by 2, then one unfiltered listing.
      expect(queries.length).toBeGreaterThan(3);
      for (const query of queries) expect(queryProblems(LIST, query)).toEqual([]);
      expect(new Set(queries.flat().map(([name]) => name))).toEqual(
        new Set([
          'BackupDestination',
          'ExistsState',
          'SubscriptionId',
          'RegionIds',
          'SearchPattern',
          'Offset',
          'Limit',
        ]),
      );
      expect(queries[0].filter(([name]) => name === 'RegionIds')).toEqual([
        ['RegionIds', 'westeurope'],
        ['RegionIds', 'ukwest'],
      ]);
      expect(queries.map((q) => q.find(([name]) => name === 'SubscriptionId')?.[1])).toEqual(
        expect.arrayContaining([...SUBS, undefined]),
      );
    });

    it('catches drift: undeclared or bracketed names, joined lists, wrong case, values outside the schema', () => {
      for (const bad of [
        [['RegionIds[]', 'westeurope']],
        [['regionIds', 'westeurope']],
        [['BackupDestination', 'ManualSnapshot,Snapshot']],
        [['BackupDestination', 'Manual']],
        [['ExistsState', 'Everything']],
        [
          ['ExistsState', 'All'],
          ['ExistsState', 'All'],
        ],
        [['SubscriptionId', 'not-a-uuid']],
        [['Limit', '-2']],
        [['Offset', 'ten']],
      ] as QueryPairs[]) {
        expect(queryProblems(LIST, bad)).toHaveLength(1);
      }
      expect(
        queryProblems(LIST, [
          ['RegionIds', 'a'],
          ['RegionIds', 'b'],
          ['Limit', '-1'],
        ]),
      ).toEqual([]);
    });
  });
});
