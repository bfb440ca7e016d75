/**
 * Pulls out of the official VBAzure v8.1 OpenAPI document the response schemas of the operations the
 * simulator serves, and the query parameters of the requests whose query the client builds itself (plus
 * every schema they $ref), so the contract test can validate against them and a trimmed copy can be
 * vendored. Throws when an operation, status, parameter list or schema is missing: that is drift.
 *
 * Usage: node dist/dev/simulator/extract-schemas.js <vbazure-rest-v8.1.openapi.json> <out.json>
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** The simulated operations and the statuses whose documented schema the simulator must follow. */
export const CONTRACT_OPERATIONS: ReadonlyArray<{
  method: 'get' | 'post' | 'delete';
  path: string;
  statuses: string[];
}> = [
  { method: 'post', path: '/api/oauth2/token', statuses: ['200', '400', '401'] },
  { method: 'get', path: '/api/v8.1/system/about', statuses: ['200'] },
  { method: 'get', path: '/api/v8.1/virtualMachines', statuses: ['200', '400', '401'] },
  { method: 'get', path: '/api/v8.1/virtualMachines/{id}', statuses: ['200'] },
  { method: 'get', path: '/api/v8.1/restorePoints/virtualMachines', statuses: ['200', '400'] },
  {
    method: 'get',
    path: '/api/v8.1/restorePoints/virtualMachines/{restorePointId}',
    statuses: ['200', '404'],
  },
  {
    method: 'delete',
    path: '/api/v8.1/restorePoints/virtualMachines/{restorePointId}',
    statuses: ['202', '401', '404', '423'],
  },
  {
    method: 'post',
    path: '/api/v8.1/protectedItem/virtualMachines/{id}/deleteManualSnapshots',
    statuses: ['202', '401', '404'],
  },
  {
    method: 'post',
    path: '/api/v8.1/protectedItem/virtualMachines/deleteManualSnapshots',
    statuses: ['202', '400', '404'],
  },
  { method: 'get', path: '/api/v8.1/jobSessions', statuses: ['200', '400'] },
  { method: 'get', path: '/api/v8.1/jobSessions/{sessionId}', statuses: ['200', '404'] },
  { method: 'get', path: '/api/v8.1/jobSessions/{sessionId}/log', statuses: ['200'] },
];

/** Operations whose query string the contract test checks parameter by parameter (discovery's listing). */
export const CONTRACT_QUERIES: ReadonlyArray<{ method: 'get'; path: string }> = [
  { method: 'get', path: '/api/v8.1/virtualMachines' },
];

/** Schemas checked by name although no simulated operation declares them (injected 429s). */
export const EXTRA_SCHEMAS = ['ProblemDetails429'];

/** One documented query parameter; `schema` may $ref an enum in `schemas`. */
export interface QueryParameter {
  name: string;
  required: boolean;
  schema: Record<string, unknown>;
}

export interface ContractExtract {
  /** "POST /api/oauth2/token 200" -> schema name. */
  operations: Record<string, string>;
  /** "GET /api/v8.1/virtualMachines" -> its query parameters, in document order. */
  queries: Record<string, QueryParameter[]>;
  schemas: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const REF_PREFIX = '#/components/schemas/';

function responseSchemaName(openapi: Json, method: string, path: string, status: string): string {
  const operation = (openapi.paths as Json | undefined)?.[path] as Json | undefined;
  const responses = (operation?.[method] as Json | undefined)?.responses as Json | undefined;
  const content = (responses?.[status] as Json | undefined)?.content as Record<string, Json> | undefined;
  const ref = content && (Object.values(content)[0]?.schema as Json | undefined)?.$ref;
  if (typeof ref !== 'string' || !ref.startsWith(REF_PREFIX)) {
    throw new Error(`The OpenAPI document declares no schema for ${method.toUpperCase()} ${path} ${status}`);
  }
  return ref.slice(REF_PREFIX.length);
}

function queryParameters(openapi: Json, method: string, path: string): QueryParameter[] {
  const operation = ((openapi.paths as Json | undefined)?.[path] as Json | undefined)?.[method] as
    Json | undefined;
  const parameters = operation?.parameters;
  if (!Array.isArray(parameters)) {
    throw new Error(`The OpenAPI document declares no parameters for ${method.toUpperCase()} ${path}`);
  }
  return (parameters as Json[])
    .filter((p) => p.in === 'query')
    .map((p) => ({ name: String(p.name), required: p.required === true, schema: p.schema as Json }));
}

function collectRefs(node: unknown, found: Set<string>): void {
  if (Array.isArray(node)) node.forEach((item) => collectRefs(item, found));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith(REF_PREFIX)) {
        found.add(value.slice(REF_PREFIX.length));
      } else collectRefs(value, found);
    }
  }
}

export function extractContract(openapi: Json): ContractExtract {
  const all = ((openapi.components as Json | undefined)?.schemas ?? {}) as Record<string, unknown>;
  const operations: Record<string, string> = {};
  for (const { method, path, statuses } of CONTRACT_OPERATIONS) {
    for (const status of statuses) {
      operations[`${method.toUpperCase()} ${path} ${status}`] = responseSchemaName(
        openapi,
        method,
        path,
        status,
      );
    }
  }
  const queries: Record<string, QueryParameter[]> = {};
  const queryRefs = new Set<string>();
  for (const { method, path } of CONTRACT_QUERIES) {
    const parameters = queryParameters(openapi, method, path);
    queries[`${method.toUpperCase()} ${path}`] = parameters;
    collectRefs(parameters, queryRefs);
  }
  const pending = [...new Set([...Object.values(operations), ...queryRefs, ...EXTRA_SCHEMAS])];
  const schemas: Record<string, unknown> = {};
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (name in schemas) continue;
    if (!(name in all)) throw new Error(`The OpenAPI document has no schema named ${name}`);
    schemas[name] = all[name];
    const refs = new Set<string>();
    collectRefs(all[name], refs);
    pending.push(...refs);
  }
  const sorted = Object.fromEntries(
    Object.keys(schemas)
      .sort()
      .map((name) => [name, schemas[name]]),
  );
  return { operations, queries, schemas: sorted };
}

if (require.main === module) {
  const [source, target] = process.argv.slice(2);
  if (!source || !target) {
    process.stderr.write('usage: extract-schemas <vbazure-rest-v8.1.openapi.json> <out.json>\n');
    process.exit(2);
  }
  const extract = extractContract(JSON.parse(readFileSync(source, 'utf8')) as Json);
  writeFileSync(target, `${JSON.stringify(extract, null, 2)}\n`);
  process.stdout.write(`wrote ${Object.keys(extract.schemas).length} schemas to ${target}\n`);
}
