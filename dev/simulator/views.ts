/** JSON shapes of the appliance's resources, per API generation. */
import type { RestorePoint, SimVm } from './fleet';
import { isoTime, timeSpan } from './format';
import { partStatus, sessionStatus, type SessionPart, type SessionRecord } from './state';
import type { ApiGeneration } from './types';

export interface Page<T> {
  offset: number;
  limit: number;
  totalCount: number;
  results: T[];
}

export function page<T>(all: readonly T[], offset: number, limit: number): Page<T> {
  return { offset, limit, totalCount: all.length, results: all.slice(offset, offset + limit) };
}

export function vmView(vm: SimVm, generation: ApiGeneration, linkOrigin: string): Record<string, unknown> {
  const { id } = vm.spec;
  const armPath = `/subscriptions/${vm.subscriptionId}/resourcegroups/${vm.resourceGroupName}/providers/microsoft.compute/virtualmachines/${vm.name}`;
  const common = {
    id,
    // Lower-cased like the documented example; on v1 it is the only place subscription and group appear.
    azureId: armPath.toLowerCase(),
    name: vm.name,
    azureEnvironment: 'Global',
    osType: 'Linux',
    regionName: vm.regionName,
    totalSizeInGB: 30,
    vmSize: 'Standard_B2s',
    virtualNetwork: 'vnet-sim',
    subnet: 'default',
    privateIP: '10.0.0.4',
    hasEphemeralOsDisk: false,
    isController: vm.isController,
    isDeleted: vm.isDeleted,
  };
  const self = { self: { href: `${linkOrigin}/api/${generation}/virtualMachines/${id}` } };
  if (generation === 'v1') return { ...common, _links: self };
  return {
    ...common,
    regionDisplayName: vm.regionName,
    subscriptionId: vm.subscriptionId,
    subscriptionName: 'Simulated subscription',
    resourceGroupName: vm.resourceGroupName,
    _links: self,
  };
}

export function restorePointView(
  vm: SimVm,
  point: RestorePoint,
  linkOrigin: string,
): Record<string, unknown> {
  return {
    id: point.id,
    type: 'Full',
    pointInTime: isoTime(point.pointInTimeMs),
    backupSizeBytes: point.backupSizeBytes,
    isCorrupted: false,
    vmName: vm.name,
    resourceHashId: vm.spec.id,
    regionId: vm.regionName,
    regionName: vm.regionName,
    backupDestination: point.backupDestination,
    state: 'Ok',
    gfsFlags: 'None',
    jobSessionId: null,
    dataRetrievalStatus: 'None',
    immutableTill: point.immutableTillMs === undefined ? null : isoTime(point.immutableTillMs),
    _links: { self: { href: `${linkOrigin}/api/v8.1/restorePoints/virtualMachines/${point.id}` } },
  };
}

function sessionLinks(session: SessionRecord, linkOrigin: string): Record<string, { href: string }> {
  const self = `${linkOrigin}/api/${session.generation}/jobSessions/${session.id}`;
  return { self: { href: self }, log: { href: `${self}/log` } };
}

export function sessionView(
  session: SessionRecord,
  linkOrigin: string,
  nowMs: number,
): Record<string, unknown> {
  const { status, stopMs } = sessionStatus(session, nowMs);
  const ended = stopMs !== undefined;
  const body: Record<string, unknown> = {
    id: session.id,
    type: session.type,
    // 'ManualSnapshotDeletion' -> 'Manual Snapshot Deletion', like the appliance's UI names.
    localizedType: session.type.replace(/(?<=[a-z])(?=[A-Z])/g, ' '),
    executionStartTime: isoTime(session.startMs),
    executionStopTime: ended ? isoTime(stopMs) : null,
    executionDuration: ended ? timeSpan(stopMs - session.startMs) : null,
    status,
  };
  if (session.generation === 'v1') body.usn = 0;
  else if (ended && session.purpose !== 'other') {
    const removed = session.parts.reduce((n, p) => n + (p.outcome === 'Error' ? 0 : p.pointIds.length), 0);
    body.retentionJobInfo = { deletedRestorePointsCount: removed };
  }
  body._links = sessionLinks(session, linkOrigin);
  return body;
}

function partMessage(session: SessionRecord, part: SessionPart, status: string): string {
  const count = part.pointIds.length;
  const vm = `virtual machine '${part.vmName}'`;
  if (session.purpose === 'other') return `${session.type} of ${vm}: ${status}`;
  if (session.purpose === 'point') {
    const point = `restore point ${part.pointIds[0]} of ${vm}`;
    if (status === 'Running') return `Removing ${point}`;
    if (status === 'Error') return `Failed to remove ${point}: Azure denied the snapshot deletion`;
    return `Removed ${point}`;
  }
  if (count === 0) return `No manual snapshots of ${vm} to remove`;
  switch (status) {
    case 'Running':
      return `Removing ${count} manual snapshot(s) of ${vm}`;
    case 'Warning':
      return `Removed ${count} manual snapshot(s) of ${vm} with warnings: one snapshot was already deleted in Azure`;
    case 'Error':
      return `Failed to remove manual snapshots of ${vm}: Azure denied the snapshot deletion (AuthorizationFailed)`;
    default:
      return `Removed ${count} manual snapshot(s) of ${vm}`;
  }
}

/** One log item per VM, written when the session starts and updated when that VM's part ends. */
export function sessionLogView(session: SessionRecord, nowMs: number): Record<string, unknown> {
  const log = session.parts.map((part) => {
    const { status, stopMs } = partStatus(session, part, nowMs);
    const item: Record<string, unknown> = {
      logTime: isoTime(stopMs ?? session.startMs),
      status,
      message: partMessage(session, part, status),
      executionStartTime: isoTime(session.startMs),
      executionDuration: timeSpan((stopMs ?? nowMs) - session.startMs),
    };
    if (session.generation === 'v8.1') item.resourceHashId = part.vmId;
    return item;
  });
  return { jobSessionId: session.id, log };
}
