/**
 * The appliance's JSON as zod schemas: every 2xx body the client reads goes through `parseWire`, so a
 * malformed answer is one VeeamProtocolError naming the route and the field, and nothing downstream casts.
 * Unknown fields are stripped (thousands of sessions are held at once); nullable fields become undefined.
 */
import { z } from 'zod';
import { VeeamProtocolError } from './errors';
import type { JobSession, RestorePoint, VirtualMachineInfo } from './types';

/** Optional on the wire, often `null`: read as undefined. */
const optional = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((value) => value ?? undefined);

const linksSchema = z
  .record(z.string(), z.object({ href: z.string() }))
  .optional()
  // Links only choose the poll path, with the documented path as fallback: a damaged one is dropped.
  .catch(undefined);

export const jobSessionSchema: z.ZodType<JobSession> = z.object({
  // v1 ids are numeric strings; an appliance that sends a number means the same session.
  id: z.union([z.string().min(1), z.number()]).transform(String),
  type: optional(z.string()),
  status: z.string().min(1),
  executionStartTime: optional(z.string()),
  executionStopTime: optional(z.string()),
  executionDuration: optional(z.string()),
  usn: optional(z.number()),
  _links: linksSchema,
});

/** One log item; v1 items have no resourceHashId, v8.1 items name the processed VM with it. */
export const logItemSchema = z.object({
  logTime: optional(z.string()),
  status: optional(z.string()),
  message: optional(z.string()),
  resourceHashId: optional(z.string()),
});
export type LogItem = z.infer<typeof logItemSchema>;

/** v1 and v8.1 session logs: `{ jobSessionId, log: LogItem[] | null }`; an empty body is an empty log. */
export const sessionLogSchema = z
  .object({ log: optional(z.array(logItemSchema)) })
  .optional()
  .transform((body) => body?.log ?? []);

/** The page envelope of every v8.1 listing. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    offset: optional(z.number()),
    limit: optional(z.number()),
    totalCount: optional(z.number()),
    results: optional(z.array(item)).transform((results) => results ?? []),
  });
}
export interface Page<T> {
  offset?: number;
  limit?: number;
  totalCount?: number;
  results: T[];
}

export const restorePointSchema: z.ZodType<RestorePoint> = z.object({
  id: z.string().min(1),
  backupDestination: z.string(),
  pointInTime: optional(z.string()),
  immutableTill: optional(z.string()),
  vmName: optional(z.string()),
  regionName: optional(z.string()),
  type: optional(z.string()),
  isCorrupted: optional(z.boolean()),
  jobSessionId: optional(z.string()),
});

export const vmSchema = z.object({ name: optional(z.string()) });

/** `/subscriptions/{id}/resourcegroups/{name}/…`: on v1 the only place subscription and group appear. */
const ARM_PLACEMENT = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\//i;

/**
 * One item of GET /virtualMachines (v1 and v8.1); the flags default to false when an appliance omits them.
 * Nulls are mapped in one transform instead of one per field: a listing can hold 100,000 items.
 */
export const virtualMachineSchema: z.ZodType<VirtualMachineInfo> = z
  .object({
    id: z.string().min(1),
    name: z.string().nullish(),
    azureId: z.string().nullish(),
    resourceGroupName: z.string().nullish(),
    subscriptionId: z.string().nullish(),
    regionName: z.string().nullish(),
    isController: z.boolean().nullish(),
    isDeleted: z.boolean().nullish(),
  })
  .transform((vm) => {
    const arm = vm.azureId ? ARM_PLACEMENT.exec(vm.azureId) : null;
    return {
      id: vm.id,
      name: vm.name ?? undefined,
      resourceGroupName: vm.resourceGroupName ?? arm?.[2],
      subscriptionId: vm.subscriptionId ?? arm?.[1],
      regionName: vm.regionName ?? undefined,
      isController: vm.isController ?? false,
      isDeleted: vm.isDeleted ?? false,
    };
  });

export const virtualMachinePageSchema = pageSchema(virtualMachineSchema);

/** The token endpoint's answer; with MFA on it has no access_token but `mfa_enabled: true`. */
export const tokenSchema = z.object({
  access_token: optional(z.string()),
  refresh_token: optional(z.string()),
  expires_in: optional(z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)])),
  mfa_enabled: optional(z.boolean()),
});

/** `body` as `schema` describes it, or a VeeamProtocolError naming `route` and the first bad field. */
export function parseWire<T>(schema: z.ZodType<T>, body: unknown, route: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new VeeamProtocolError(route, fieldPath(result.error.issues[0]?.path ?? []));
}

function fieldPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) =>
      typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${displayKey(String(key))}`,
    )
    .join('');
}

/** Schema keys only reach here, but a record key would be appliance text: keep it short and plain. */
function displayKey(key: string): string {
  return /^[A-Za-z_$][\w$]{0,63}$/.test(key) ? key : '?';
}
