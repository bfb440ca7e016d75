/** The v8.1 API of current appliances: probes, VMs, restore points, manual-snapshot deletes, sessions. */
import { badRequest, locked, notFound, type SimResponse } from '../response';
import { sessionStatus } from '../state';
import type { SimVm } from '../fleet';
import { page, restorePointView, sessionView, vmView } from '../views';
import { isResponse, listingPage, parsePageWindow } from './paging';
import { bump, ID, type RouteDef, type RouteDeps } from './route';
import { sessionRoutes } from './sessions';

const JOB_STATUSES = new Set([
  'Canceled',
  'Canceling',
  'Error',
  'NeverExecuted',
  'Running',
  'RunningWithError',
  'RunningWithWarning',
  'Success',
  'Warning',
  'Pending',
  'Unknown',
]);
const BACKUP_DESTINATIONS = new Set(['Snapshot', 'AzureBlob', 'ManualSnapshot', 'Archive']);
const EXISTS_STATES = new Set(['OnlyExists', 'OnlyDeleted', 'Unknown', 'All']);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** FromUtc/ToUtc must be UTC (a trailing Z) since v4; fractions of a second are accepted. */
const UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$/;

/** Array query parameters arrive repeated (Status=a&Status=b) or comma-separated. */
function listParam(query: URLSearchParams, name: string): string[] {
  return query
    .getAll(name)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** The `ids` of a batch body, or the 400 that explains what is wrong with it. */
function parseBatchBody(body: string): string[] | SimResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return badRequest({ $: ['The request body is not valid JSON.'] });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return badRequest({ $: ['The request body must be an object with an ids array.'] });
  }
  const extra = Object.keys(parsed).filter((k) => k !== 'ids');
  if (extra.length > 0) return badRequest(Object.fromEntries(extra.map((k) => [k, ['Unknown field.']])));
  const { ids } = parsed as { ids?: unknown };
  if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string' && id !== '')) {
    return badRequest({ ids: ['ids must be a non-empty array of virtual machine ids.'] });
  }
  return [...new Set(ids as string[])];
}

function batchVmIds(body: string): string[] {
  const ids = parseBatchBody(body);
  return Array.isArray(ids) ? ids : [];
}

/**
 * The filters of GET /virtualMachines the simulator honours: BackupDestination (VMs that have such a
 * point), SubscriptionId, RegionIds (region names, case-insensitive), SearchPattern (name contains,
 * case-insensitive) and ExistsState (default: all VMs, deleted ones included).
 */
function vmFilter(query: URLSearchParams): { matches: (vm: SimVm) => boolean } | SimResponse {
  const errors: Record<string, string[]> = {};
  const destinations = listParam(query, 'BackupDestination');
  if (destinations.some((d) => !BACKUP_DESTINATIONS.has(d))) {
    errors.BackupDestination = ['Unknown backup destination.'];
  }
  const subscription = query.get('SubscriptionId')?.toLowerCase();
  if (subscription !== undefined && !UUID_RE.test(subscription)) {
    errors.SubscriptionId = ['SubscriptionId must be a uuid.'];
  }
  const regions = new Set(listParam(query, 'RegionIds').map((r) => r.toLowerCase()));
  const exists = query.get('ExistsState') ?? 'All';
  if (!EXISTS_STATES.has(exists)) errors.ExistsState = ['Unknown exists state.'];
  if (Object.keys(errors).length > 0) return badRequest(errors);
  const pattern = query.get('SearchPattern')?.toLowerCase();
  return {
    matches: (vm) =>
      (pattern === undefined || vm.name.toLowerCase().includes(pattern)) &&
      (subscription === undefined || vm.subscriptionId.toLowerCase() === subscription) &&
      (regions.size === 0 || regions.has(vm.regionName.toLowerCase())) &&
      (exists !== 'OnlyExists' || !vm.isDeleted) &&
      (exists !== 'OnlyDeleted' || vm.isDeleted) &&
      (destinations.length === 0 || vm.restorePoints.some((p) => destinations.includes(p.backupDestination))),
  };
}

export function v81Routes(deps: RouteDeps): RouteDef[] {
  const { state, counters } = deps;
  const countDelete = (id: string): void => bump(counters.deleteCallsByVm, id);
  const hasManualSnapshots = (id: string): boolean =>
    state.getVm(id)?.restorePoints.some((p) => p.backupDestination === 'ManualSnapshot') ?? false;
  const vmMissing = (id: string, instance: string) =>
    notFound(`Virtual machine with id '${id}' was not found.`, instance);
  const pointPath = (id: string): string => `/api/v8.1/restorePoints/virtualMachines/${id}`;
  const pointMissing = (id: string) =>
    notFound(`Restore point with id '${id}' was not found.`, pointPath(id));

  return [
    {
      route: 'v8.1.serviceIsUp',
      method: 'GET',
      pattern: /^\/api\/v8\.1\/system\/serviceIsUp$/,
      generation: 'v8.1',
      anonymous: true,
      handle: () => ({ status: 200 }),
    },
    {
      route: 'v8.1.about',
      method: 'GET',
      pattern: /^\/api\/v8\.1\/system\/about$/,
      generation: 'v8.1',
      handle: () => ({
        status: 200,
        body: {
          serverVersion: '8.1.0.0',
          workerVersion: '8.1.0.0',
          flrVersion: '8.1.0.0',
          databaseId: '00000000-0000-4000-8000-000000000081',
          copyright: 'Simulated appliance',
          deploymentSubscriptionId: '00000000-0000-4000-8000-000000000001',
        },
      }),
    },
    {
      route: 'v8.1.listVms',
      method: 'GET',
      pattern: /^\/api\/v8\.1\/virtualMachines$/,
      generation: 'v8.1',
      handle: ({ query, linkOrigin, listing }) => {
        const window = parsePageWindow(query, deps.maxPageSize, false);
        if (isResponse(window)) return window;
        const filter = vmFilter(query);
        if (!('matches' in filter)) return filter;
        // Validated either way: a filter the appliance ignores is still one it accepts.
        const vms = listing.ignoreFilters ? state.listVms() : state.listVms().filter(filter.matches);
        const { offset, limit, totalCount, results } = listingPage(vms, window, listing);
        return {
          status: 200,
          body: { offset, limit, totalCount, results: results.map((vm) => vmView(vm, 'v8.1', linkOrigin)) },
        };
      },
    },
    {
      route: 'v8.1.getVm',
      method: 'GET',
      pattern: new RegExp(`^\\/api\\/v8\\.1\\/virtualMachines\\/${ID}$`),
      generation: 'v8.1',
      vmIdsOf: ({ params }) => [params.id],
      handle: ({ params, linkOrigin }) => {
        const vm = state.getVm(params.id);
        if (!vm) return vmMissing(params.id, `/api/v8.1/virtualMachines/${params.id}`);
        return { status: 200, body: vmView(vm, 'v8.1', linkOrigin) };
      },
    },
    {
      route: 'v8.1.restorePoints',
      method: 'GET',
      pattern: /^\/api\/v8\.1\/restorePoints\/virtualMachines$/,
      generation: 'v8.1',
      vmIdsOf: ({ query }) => [query.get('VirtualMachineId') ?? ''],
      handle: ({ query, linkOrigin }) => {
        const window = parsePageWindow(query, deps.maxPageSize, false);
        if (isResponse(window)) return window;
        const vmId = query.get('VirtualMachineId');
        let vms = state.listVms();
        if (vmId !== null) {
          const vm = state.getVm(vmId);
          if (!vm) return vmMissing(vmId, '/api/v8.1/restorePoints/virtualMachines');
          vms = [vm];
        }
        const points = vms.flatMap((vm) => vm.restorePoints.map((p) => restorePointView(vm, p, linkOrigin)));
        return { status: 200, body: page(points, window.offset, window.limit) };
      },
    },
    {
      route: 'v8.1.getRestorePoint',
      method: 'GET',
      pattern: new RegExp(`^\\/api\\/v8\\.1\\/restorePoints\\/virtualMachines\\/${ID}$`),
      generation: 'v8.1',
      vmIdsOf: ({ params }) => [state.ownerOf(params.id) ?? ''],
      restorePointIdsOf: ({ params }) => [params.id],
      handle: ({ params, linkOrigin }) => {
        const found = state.findPoint(params.id);
        if (!found) return pointMissing(params.id);
        return { status: 200, body: restorePointView(found.vm, found.point, linkOrigin) };
      },
    },
    {
      route: 'v8.1.deleteRestorePoint',
      method: 'DELETE',
      pattern: new RegExp(`^\\/api\\/v8\\.1\\/restorePoints\\/virtualMachines\\/${ID}$`),
      generation: 'v8.1',
      vmIdsOf: ({ params }) => [state.ownerOf(params.id) ?? ''],
      restorePointIdsOf: ({ params }) => [params.id],
      handle: ({ params, linkOrigin, forceStuck, vanish }) => {
        const { id } = params;
        if (vanish) state.removePoint(id);
        bump(counters.pointDeleteCallsByPoint, id);
        const owner = state.ownerOf(id);
        if (owner !== undefined) bump(counters.pointDeleteCallsByVm, owner);
        const found = state.findPoint(id);
        if (!found) {
          counters.pointDeleteAnswers.notFound++;
          return pointMissing(id);
        }
        const { point, vm } = found;
        if (point.locked || (point.immutableTillMs ?? -Infinity) > deps.now()) {
          counters.pointDeleteAnswers.locked++;
          const why = point.locked ? 'is locked' : 'is immutable';
          return locked(`Restore point '${id}' ${why} and cannot be removed.`, pointPath(id));
        }
        counters.pointDeleteAnswers.accepted++;
        const session = state.startPointDeletion(vm.spec.id, id, forceStuck);
        return { status: 202, body: sessionView(session, linkOrigin, deps.now()) };
      },
    },
    {
      route: 'v8.1.deleteManualSnapshots',
      method: 'POST',
      pattern: new RegExp(
        `^\\/api\\/v8\\.1\\/protectedItem\\/virtualMachines\\/${ID}\\/deleteManualSnapshots$`,
      ),
      generation: 'v8.1',
      vmIdsOf: ({ params }) => [params.id],
      handle: ({ params, linkOrigin, forceStuck }) => {
        const instance = `/api/v8.1/protectedItem/virtualMachines/${params.id}/deleteManualSnapshots`;
        if (!state.getVm(params.id)) return vmMissing(params.id, instance);
        countDelete(params.id);
        if (!hasManualSnapshots(params.id)) return { status: 204 };
        const session = state.startDeletion('v8.1', [params.id], forceStuck);
        return { status: 202, body: sessionView(session, linkOrigin, deps.now()) };
      },
    },
    {
      route: 'v8.1.batchDeleteManualSnapshots',
      method: 'POST',
      pattern: /^\/api\/v8\.1\/protectedItem\/virtualMachines\/deleteManualSnapshots$/,
      generation: 'v8.1',
      vmIdsOf: ({ body }) => batchVmIds(body),
      handle: ({ body, linkOrigin, forceStuck }) => {
        const ids = parseBatchBody(body);
        if (!Array.isArray(ids)) return ids;
        const instance = '/api/v8.1/protectedItem/virtualMachines/deleteManualSnapshots';
        const unknownId = ids.find((id) => !state.getVm(id));
        if (unknownId !== undefined) return vmMissing(unknownId, instance);
        ids.forEach(countDelete);
        if (!ids.some(hasManualSnapshots)) return { status: 204 };
        const session = state.startDeletion('v8.1', ids, forceStuck);
        return { status: 202, body: sessionView(session, linkOrigin, deps.now()) };
      },
    },
    {
      route: 'v8.1.listSessions',
      method: 'GET',
      pattern: /^\/api\/v8\.1\/jobSessions$/,
      generation: 'v8.1',
      handle: ({ query, linkOrigin }) => {
        const window = parsePageWindow(query, deps.maxPageSize, false);
        if (isResponse(window)) return window;
        const statuses = listParam(query, 'Status');
        const types = listParam(query, 'Types');
        const resourceId = query.get('ResourceId');
        const errors: Record<string, string[]> = {};
        if (statuses.some((s) => !JOB_STATUSES.has(s))) errors.Status = ['Unknown job status.'];
        const time = (name: string): number | undefined => {
          const raw = query.get(name);
          if (raw === null) return undefined;
          const ms = Date.parse(raw);
          if (!UTC_RE.test(raw) || Number.isNaN(ms)) errors[name] = [`${name} must be a UTC date-time.`];
          return ms;
        };
        const fromMs = time('FromUtc');
        const toMs = time('ToUtc');
        if (Object.keys(errors).length > 0) return badRequest(errors);
        const nowMs = deps.now();
        const matching = state
          .allSessions()
          .filter(
            (s) =>
              s.generation === 'v8.1' &&
              (types.length === 0 || types.includes(s.type)) &&
              (resourceId === null || s.parts.some((p) => p.vmId === resourceId)) &&
              (fromMs === undefined || s.startMs >= fromMs) &&
              (toMs === undefined || s.startMs <= toMs) &&
              (statuses.length === 0 || statuses.includes(sessionStatus(s, nowMs).status)),
          );
        const { offset, limit, totalCount, results } = page(matching, window.offset, window.limit);
        return {
          status: 200,
          body: { offset, limit, totalCount, results: results.map((s) => sessionView(s, linkOrigin, nowMs)) },
        };
      },
    },
    ...sessionRoutes(deps, 'v8.1'),
  ];
}
