/**
 * Restore points of one VM (v8.1): the paged listing the retention planner and the dry run read, and the
 * bulk dry run's plan (the VM's ManualSnapshot points). Items carry no VM id, so each listing is per VM.
 */
import type { SnapshotInfo } from '../report';
import type { ApiProfile } from './api';
import { VeeamApiVersionError } from './errors';
import type { GuardedSend } from './retry';
import type { DeletionPlan, RestorePoint } from './types';
import { pageSchema, parseWire, restorePointSchema, vmSchema } from './wire';

const restorePointPageSchema = pageSchema(restorePointSchema);

/** The appliance's default page; one request per this many points. */
export const RESTORE_POINT_PAGE_SIZE = 100;

export interface SnapshotDeps {
  profile: ApiProfile;
  send: GuardedSend;
}

export async function listRestorePoints(
  { profile, send }: SnapshotDeps,
  vmId: string,
  options: { pageSize?: number; abortSignal?: AbortSignal } = {},
): Promise<RestorePoint[]> {
  if (!profile.restorePointsPath) {
    throw new VeeamApiVersionError(profile.version, 'restore points can only be listed on v8.1');
  }
  const limit = options.pageSize ?? RESTORE_POINT_PAGE_SIZE;
  const route = `${profile.base}/restorePoints/virtualMachines`;
  const found: RestorePoint[] = [];
  for (let offset = 0; ;) {
    const { body } = await send(
      {
        method: 'GET',
        path: `${profile.restorePointsPath(vmId)}&Offset=${offset}&Limit=${limit}`,
        route,
        kind: 'list',
        abortSignal: options.abortSignal,
      },
      {},
    );
    const page = parseWire(restorePointPageSchema, body, route);
    found.push(...page.results);
    offset += page.results.length;
    if (page.results.length === 0 || offset >= (page.totalCount ?? 0)) return found;
  }
}

/** Bulk dry run: the VM (404 when unknown) and, on v8.1, its ManualSnapshot points. */
export async function planDeletion(
  deps: SnapshotDeps,
  vmId: string,
  options: { abortSignal?: AbortSignal } = {},
): Promise<DeletionPlan> {
  const { profile, send } = deps;
  const route = `${profile.base}/virtualMachines/{id}`;
  const { body } = await send(
    { method: 'GET', path: profile.vmPath(vmId), route, kind: 'other', abortSignal: options.abortSignal },
    {},
  );
  const vmName = parseWire(vmSchema, body, route).name;
  if (!profile.restorePointsPath) return { vmId, vmName };
  const points = await listRestorePoints(deps, vmId, options);
  const snapshots: SnapshotInfo[] = points
    .filter((p) => p.backupDestination === 'ManualSnapshot')
    .map((p) => ({ id: p.id, pointInTime: p.pointInTime ?? '', vmName: p.vmName, regionName: p.regionName }));
  return { vmId, vmName, snapshots };
}
