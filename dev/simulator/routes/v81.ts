/** The v8.1 API of current appliances: probes, VMs, restore points, manual-snapshot deletes, sessions. */
import { badRequest, notFound, type SimResponse } from '../response';
import { sessionStatus } from '../state';
import { page, restorePointView, sessionView, vmView } from '../views';
import { isResponse, parsePageWindow } from './paging';
import { ID, type RouteDef, type RouteDeps } from './route';
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

export function v81Routes(deps: RouteDeps): RouteDef[] {
  const { state, counters } = deps;
  const countDelete = (id: string): void => {
    counters.deleteCallsByVm[id] = (counters.deleteCallsByVm[id] ?? 0) + 1;
  };
  const hasManualSnapshots = (id: string): boolean =>
    state.getVm(id)?.restorePoints.some((p) => p.backupDestination === 'ManualSnapshot') ?? false;
  const vmMissing = (id: string, instance: string) =>
    notFound(`Virtual machine with id '${id}' was not found.`, instance);

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
      handle: ({ query, linkOrigin }) => {
        const window = parsePageWindow(query, deps.maxPageSize, false);
        if (isResponse(window)) return window;
        const destinations = listParam(query, 'BackupDestination');
        const unknown = destinations.filter((d) => !BACKUP_DESTINATIONS.has(d));
        if (unknown.length > 0) return badRequest({ BackupDestination: ['Unknown backup destination.'] });
        const pattern = query.get('SearchPattern')?.toLowerCase();
        const vms = state
          .listVms()
          .filter(
            (vm) =>
              (pattern === undefined || vm.name.toLowerCase().includes(pattern)) &&
              (destinations.length === 0 ||
                vm.restorePoints.some((p) => destinations.includes(p.backupDestination))),
          );
        const { offset, limit, totalCount, results } = page(vms, window.offset, window.limit);
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
          if (Number.isNaN(ms)) errors[name] = [`${name} must be a UTC date-time.`];
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
