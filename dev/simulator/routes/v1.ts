/** The v1 API of VBAzure 1.0, the one the seed script used. */
import { notFound } from '../response';
import { sessionView, vmView } from '../views';
import { isResponse, listingPage, parsePageWindow } from './paging';
import { ID, type RouteDef, type RouteDeps } from './route';
import { sessionRoutes } from './sessions';

export function v1Routes(deps: RouteDeps): RouteDef[] {
  const { state, counters } = deps;
  const vmMissing = (id: string) =>
    notFound(`Virtual machine with id '${id}' was not found.`, `/api/v1/virtualMachines/${id}`);
  return [
    {
      route: 'v1.listVms',
      method: 'GET',
      pattern: /^\/api\/v1\/virtualMachines$/,
      generation: 'v1',
      handle: ({ query, linkOrigin, listing }) => {
        const window = parsePageWindow(query, deps.maxPageSize, true);
        if (isResponse(window)) return window;
        const { offset, limit, totalCount, results } = listingPage(state.listVms(), window, listing);
        return {
          status: 200,
          body: { offset, limit, totalCount, results: results.map((vm) => vmView(vm, 'v1', linkOrigin)) },
        };
      },
    },
    {
      route: 'v1.getVm',
      method: 'GET',
      pattern: new RegExp(`^\\/api\\/v1\\/virtualMachines\\/${ID}$`),
      generation: 'v1',
      vmIdsOf: ({ params }) => [params.id],
      handle: ({ params, linkOrigin }) => {
        const vm = state.getVm(params.id);
        return vm ? { status: 200, body: vmView(vm, 'v1', linkOrigin) } : vmMissing(params.id);
      },
    },
    {
      route: 'v1.deleteSnapshots',
      method: 'POST',
      pattern: new RegExp(`^\\/api\\/v1\\/virtualMachines\\/${ID}\\/deleteSnapshots$`),
      generation: 'v1',
      vmIdsOf: ({ params }) => [params.id],
      handle: ({ params, linkOrigin, forceStuck }) => {
        if (!state.getVm(params.id)) return vmMissing(params.id);
        counters.deleteCallsByVm[params.id] = (counters.deleteCallsByVm[params.id] ?? 0) + 1;
        const session = state.startDeletion('v1', [params.id], forceStuck);
        return { status: 200, body: sessionView(session, linkOrigin, deps.now()) };
      },
    },
    ...sessionRoutes(deps, 'v1'),
  ];
}
