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
  const common = {
    id,
    azureId: `/subscriptions/${vm.subscriptionId}/resourcegroups/rg-sim/providers/microsoft.compute/virtualmachines/${vm.name}`,
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
    isController: false,
    isDeleted: false,
  };
  const self = { self: { href: `${linkOrigin}/api/${generation}/virtualMachines/${id}` } };
  if (generation === 'v1') return { ...common, _links: self };
  return {
    ...common,
    regionDisplayName: vm.regionName,
    subscriptionId: vm.subscriptionId,
    subscriptionName: 'Simulated subscription',
    resourceGroupName: 'rg-sim',
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
    regionName: vm.regionName,
    backupDestination: point.backupDestination,
    state: 'Ok',
    gfsFlags: 'None',
    jobSessionId: null,
    dataRetrievalStatus: 'None',
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
    localizedType: session.type === 'SnapshotDeletion' ? 'Snapshot Deletion' : 'Manual Snapshot Deletion',
    executionStartTime: isoTime(session.startMs),
    executionStopTime: ended ? isoTime(stopMs) : null,
    executionDuration: ended ? timeSpan(stopMs - session.startMs) : null,
    status,
  };
  if (session.generation === 'v1') body.usn = 0;
  else if (ended) {
    const removed = session.parts.reduce((n, p) => n + (p.outcome === 'Error' ? 0 : p.pointIds.length), 0);
    body.retentionJobInfo = { deletedRestorePointsCount: removed };
  }
  body._links = sessionLinks(session, linkOrigin);
  return body;
}

function partMessage(part: SessionPart, status: string): string {
  const count = part.pointIds.length;
  const vm = `virtual machine '${part.vmName}'`;
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
      message: partMessage(part, status),
      executionStartTime: isoTime(session.startMs),
      executionDuration: timeSpan((stopMs ?? nowMs) - session.startMs),
    };
    if (session.generation === 'v8.1') item.resourceHashId = part.vmId;
    return item;
  });
  return { jobSessionId: session.id, log };
}
