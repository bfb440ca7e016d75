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
import { call, login, tokenRequest, USER, waitForEnd, type Reply } from './helpers';

const OFFICIAL = path.resolve(__dirname, '../../../shared/reference/vbazure-rest-v8.1.openapi.json');
const VENDORED = path.resolve(__dirname, 'fixtures/vbazure-v8.1-schemas.json');

const vendored = JSON.parse(readFileSync(VENDORED, 'utf8')) as ContractExtract;
const official: ContractExtract | undefined = existsSync(OFFICIAL)
  ? extractContract(JSON.parse(readFileSync(OFFICIAL, 'utf8')))
  : undefined;
const contract = official ?? vendored;

function compile(extract: ContractExtract): (schemaName: string) => ValidateFunction {
  // strict:false tolerates the x-* and readOnly annotations; Ajv's own `nullable` support covers OpenAPI 3.0.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('time-span', /^(\d+\.)?\d{2}:\d{2}:\d{2}(\.\d{1,7})?$/);
  ajv.addSchema({ $id: 'vbazure', components: { schemas: extract.schemas } });
  return (name) => {
    const validate = ajv.getSchema(`vbazure#/components/schemas/${name}`);
    if (!validate) throw new Error(`no schema ${name}`);
    return validate;
  };
}

const schemaNamed = compile(contract);

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

    it('injected 429 follows ProblemDetails429', async () => {
      sim.addFault({ route: 'v8.1.about', kind: 'status', status: 429, retryAfter: '1', times: 1 });
      const reply = await get('/api/v8.1/system/about');
      expect(reply.status).toBe(429);
      const validate = schemaNamed('ProblemDetails429');
      expect(validate(reply.json) ? null : validate.errors).toBeNull();
    });
  });
});
