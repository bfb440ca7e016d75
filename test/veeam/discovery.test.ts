import type { SimVmSpec } from '../../dev/simulator';
import { systemClock } from '../../shared/clock';
import { V8_1 } from '../../shared/veeam/api';
import { createVeeamClient } from '../../shared/veeam/client';
import { DISCOVERY_DEFAULTS, listVirtualMachines } from '../../shared/veeam/discovery';
import { VeeamListingLimitError, VeeamProtocolError } from '../../shared/veeam/errors';
import type { VeeamClient, VirtualMachineInfo } from '../../shared/veeam/types';
import { clientFor, closeAll, simulator } from './helpers';
import { createTransport } from '../../shared/veeam/transport';
import { localAppliance, type LocalReply, type LocalServer } from './localServer';

afterEach(closeAll);

const SUBS = [
  '3a9a4930-0000-4000-8000-00000000000a',
  '3a9a4930-0000-4000-8000-00000000000b',
  '3a9a4930-0000-4000-8000-00000000000c',
];
const REGIONS = ['westeurope', 'northeurope', 'eastus', 'ukwest'];
const GROUPS = ['rg-app', 'rg-data', 'rg-legal-hold'];
const PREFIXES = ['app-', 'SQL-', 'web-', 'dc'];

/** A fleet spread over 3 subscriptions, 4 regions and 3 groups; every 11th VM deleted, every 7th without manual snapshots. */
function fleet(count: number): SimVmSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `vm-${String(i).padStart(4, '0')}`,
    name: `${PREFIXES[i % 4]}${String(i).padStart(4, '0')}`,
    subscriptionId: SUBS[i % 3],
    regionName: REGIONS[Math.floor(i / 5) % 4],
    resourceGroupName: GROUPS[Math.floor(i / 12) % 3],
    isDeleted: i % 11 === 5,
    manualSnapshots: i % 7 === 6 ? 0 : 1,
    policySnapshots: 1,
  }));
}
const hasManual = (vm: SimVmSpec) => vm.manualSnapshots !== 0;
const ids = (vms: ReadonlyArray<{ id: string }>) => vms.map((vm) => vm.id).sort();

describe('listVirtualMachines (v8.1, over the simulator)', () => {
  it('pages 100 at a time: 250 VMs take 3 list requests, each VM with its placement and flags', async () => {
    const specs = fleet(250);
    const sim = await simulator({ vms: specs });
    const client = clientFor(sim);
    const vms = await client.listVirtualMachines({ manualSnapshotsOnly: false });
    expect(vms.map((vm) => vm.id)).toEqual(specs.map((vm) => vm.id));
    expect(vms[9]).toEqual({
      id: 'vm-0009',
      name: 'SQL-0009',
      subscriptionId: SUBS[0],
      regionName: 'northeurope',
      resourceGroupName: 'rg-app',
      isController: false,
      isDeleted: false,
    });
    expect(vms[5]).toMatchObject({ id: 'vm-0005', isDeleted: true });
    expect(sim.counters.requestsByRoute['v8.1.listVms']).toBe(3);
    expect(client.requestCounts.list).toBe(3);
    const listings = client.requests.filter((r) => r.kind === 'list');
    expect(listings.map((r) => [r.method, r.path, r.status])).toEqual(
      Array(3).fill(['GET', '/api/v8.1/virtualMachines', 200]),
    );
  });

  it('3,000 VMs with manual snapshots take 30 list requests', async () => {
    const sim = await simulator({ vms: fleet(3000).map((vm) => ({ ...vm, manualSnapshots: 1 })) });
    const client = clientFor(sim);
    expect(await client.listVirtualMachines()).toHaveLength(3000);
    expect(client.requestCounts).toMatchObject({ list: 30, delete: 0, poll: 0 });
    expect(sim.counters.requestsByRoute['v8.1.listVms']).toBe(30);
  });

  it('one listing per subscription (ids compared case-insensitively, each subscription once)', async () => {
    const specs = fleet(250);
    const sim = await simulator({ vms: specs });
    const client = clientFor(sim);
    const vms = await client.listVirtualMachines({
      filter: { subscriptionIds: [SUBS[0], SUBS[2].toUpperCase(), SUBS[0].toUpperCase()] },
      manualSnapshotsOnly: false,
    });
    const expected = specs.filter((vm) => vm.subscriptionId !== SUBS[1]);
    expect(ids(vms)).toEqual(ids(expected));
    // 84 and 83 VMs: one page per subscription.
    expect(sim.counters.requestsByRoute['v8.1.listVms']).toBe(2);
    expect(client.warnings).toEqual([]);
  });

  it('regions and nameContains filter case-insensitively; BackupDestination drops VMs without manual snapshots; deleted VMs stay', async () => {
    const specs = fleet(250);
    const sim = await simulator({ vms: specs });
    const client = clientFor(sim);
    const vms = await client.listVirtualMachines({
      filter: { regions: ['WestEurope', 'eastus'], nameContains: 'sql' },
    });
    const expected = specs.filter(
      (vm) =>
        ['westeurope', 'eastus'].includes(vm.regionName!) && vm.name!.startsWith('SQL-') && hasManual(vm),
    );
    expect(expected.length).toBeGreaterThan(15);
    expect(ids(vms)).toEqual(ids(expected));
    expect(vms.some((vm) => vm.isDeleted)).toBe(true);
    expect(sim.counters.requestsByRoute['v8.1.listVms']).toBe(1);
  });

  it('returns the controller flagged, deleted VMs, and with manualSnapshotsOnly false also VMs without manual snapshots', async () => {
    const specs = fleet(40);
    const sim = await simulator({ vms: specs, controller: true, subscriptionIds: SUBS });
    const client = clientFor(sim);
    const manual = await client.listVirtualMachines();
    expect(ids(manual)).toEqual(ids([{ id: sim.controllerVmId! }, ...specs.filter(hasManual)]));
    expect(manual.filter((vm) => vm.isController).map((vm) => vm.id)).toEqual([sim.controllerVmId]);
    expect(manual.filter((vm) => vm.isDeleted).map((vm) => vm.id)).toEqual(['vm-0005', 'vm-0016', 'vm-0038']);
    const every = await client.listVirtualMachines({ manualSnapshotsOnly: false });
    expect(every).toHaveLength(41);
  });

  it('re-applies every filter client-side when the appliance ignores them, and says so', async () => {
    const specs = fleet(250);
    const sim = await simulator({ vms: specs, faults: [{ route: 'v8.1.listVms', kind: 'ignoreFilters' }] });
    const client = clientFor(sim);
    const vms = await client.listVirtualMachines({
      filter: { subscriptionIds: [SUBS[0], SUBS[1]], regions: ['UKWEST'], nameContains: 'WEB-' },
      manualSnapshotsOnly: false,
    });
    const expected = specs.filter(
      (vm) => vm.subscriptionId !== SUBS[2] && vm.regionName === 'ukwest' && vm.name!.startsWith('web-'),
    );
    expect(expected.length).toBeGreaterThan(5);
    expect(ids(vms)).toEqual(ids(expected));
    // Both listings came back with the whole fleet (3 pages each); each VM is returned once.
    expect(sim.counters.requestsByRoute['v8.1.listVms']).toBe(6);
    expect(client.warnings).toEqual([
      `The appliance listed ${250 - expected.length} VM(s) outside the discovery filter (it ignored a filter); they are not targets`,
    ]);
  });

  it('returns a VM listed twice under ids differing in case once', async () => {
    const sim = await simulator({
      vms: [
        { id: 'vm-dup', name: 'app-1', subscriptionId: SUBS[0] },
        { id: 'VM-DUP', name: 'app-1', subscriptionId: SUBS[0] },
        { id: 'vm-other', name: 'app-2', subscriptionId: SUBS[0] },
      ],
    });
    const vms = await clientFor(sim).listVirtualMachines();
    expect(vms.map((vm) => vm.id)).toEqual(['vm-dup', 'vm-other']);
  });

  it('stops with VeeamListingLimitError when the appliance ignores Offset', async () => {
    const sim = await simulator({
      vms: fleet(250),
      faults: [{ route: 'v8.1.listVms', kind: 'ignoreOffset' }],
    });
    const client = clientFor(sim);
    const error = await client.listVirtualMachines().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VeeamListingLimitError);
    expect(error).toMatchObject({ reason: 'notAdvancing', route: '/api/v8.1/virtualMachines' });
    expect(sim.counters.requestsByRoute['v8.1.listVms']).toBe(2);
  });

  it('a totalCount that lies ends at the first empty page', async () => {
    const specs = fleet(250);
    const sim = await simulator({
      vms: specs,
      faults: [{ route: 'v8.1.listVms', kind: 'inflateTotalCount' }],
    });
    const client = clientFor(sim);
    expect(await client.listVirtualMachines({ manualSnapshotsOnly: false })).toHaveLength(250);
    expect(sim.counters.requestsByRoute['v8.1.listVms']).toBe(4);
  });

  it('an abort between pages stops the listing with the abort reason', async () => {
    const sim = await simulator({ vms: fleet(250) });
    const abort = new AbortController();
    const client = clientFor(sim, {
      onRequest: (info) => {
        if (info.kind === 'list') abort.abort(new Error('run cancelled'));
      },
    });
    await expect(client.listVirtualMachines({ abortSignal: abort.signal })).rejects.toThrow('run cancelled');
    expect(sim.counters.requestsByRoute['v8.1.listVms']).toBe(1);
  });

  it('an abort while a page is in flight stops the listing', async () => {
    const sim = await simulator({
      vms: fleet(20),
      faults: [{ route: 'v8.1.listVms', kind: 'latency', latencyMs: 5000 }],
    });
    const client = clientFor(sim, { requestTimeoutMs: 30_000 });
    await client.connect();
    const abort = new AbortController();
    const listing = client.listVirtualMachines({ abortSignal: abort.signal });
    const until = Date.now() + 5000;
    while (sim.counters.requestsByRoute['v8.1.listVms'] !== 1 && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    abort.abort(new Error('run cancelled'));
    await expect(listing).rejects.toThrow('run cancelled');
    expect(sim.counters.requestsByRoute['v8.1.listVms']).toBe(1);
  });

  it('rejects a page size that is not a positive integer before sending anything', async () => {
    const sim = await simulator({ vms: fleet(3) });
    const client = clientFor(sim);
    for (const pageSize of [0, -1, 2.5]) {
      await expect(client.listVirtualMachines({ pageSize })).rejects.toThrow(RangeError);
    }
    expect(sim.counters.requestsByRoute['v8.1.listVms']).toBeUndefined();
  });
});

describe('listVirtualMachines (v1, over the simulator)', () => {
  it('lists every VM (v1 cannot filter or tell manual snapshots) and filters client-side, reading placement from azureId', async () => {
    const specs = fleet(150);
    const sim = await simulator({ vms: specs, versions: ['v1'] });
    const client = clientFor(sim);
    const vms = await client.listVirtualMachines({
      filter: {
        subscriptionIds: [SUBS[1].toUpperCase()],
        regions: ['EastUS', 'ukwest'],
        nameContains: 'APP-',
      },
    });
    expect(client.apiVersion).toBe('v1');
    const expected = specs.filter(
      (vm) =>
        vm.subscriptionId === SUBS[1] &&
        ['eastus', 'ukwest'].includes(vm.regionName!) &&
        vm.name!.startsWith('app-'),
    );
    expect(expected.length).toBeGreaterThan(3);
    expect(expected.some((vm) => !hasManual(vm))).toBe(true);
    expect(ids(vms)).toEqual(ids(expected));
    const first = expected[0];
    expect(vms.find((vm) => vm.id === first.id)).toEqual({
      id: first.id,
      name: first.name,
      subscriptionId: SUBS[1],
      resourceGroupName: first.resourceGroupName,
      regionName: first.regionName,
      isController: false,
      isDeleted: first.isDeleted,
    });
    // One more: the version probe (GET /api/v1/virtualMachines?limit=1, counted as other).
    expect(sim.counters.requestsByRoute['v1.listVms']).toBe(3);
    expect(client.requestCounts.list).toBe(2);
    expect(vms.some((vm) => vm.isDeleted)).toBe(true);
    expect(client.warnings).toEqual([]);
  });
});

describe('listVirtualMachines: the exact requests and damaged answers (loopback appliance)', () => {
  let server: LocalServer | undefined;
  let client: VeeamClient | undefined;
  afterEach(async () => {
    client?.close();
    await server?.close();
    server = client = undefined;
  });

  const listPaths = () => server!.requests.filter((r) => r.startsWith('GET /api/v8.1/virtualMachines'));
  async function connect(answer: (query: URLSearchParams) => LocalReply): Promise<VeeamClient> {
    server = await localAppliance((_method, path) => {
      if (path === '/api/v8.1/system/about') return { status: 200, body: {} };
      const [route, query] = path.split('?');
      return route === '/api/v8.1/virtualMachines' ? answer(new URLSearchParams(query)) : undefined;
    });
    client = createVeeamClient({
      baseUrl: server.url,
      username: 'u',
      password: 'local-password',
      retry: { baseDelayMs: 1 },
    });
    return client;
  }
  const vm = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    name: `n-${id}`,
    isController: false,
    isDeleted: false,
    ...extra,
  });

  it('sends every filter in the documented spelling, values percent-encoded, one listing per subscription', async () => {
    const c = await connect(() => ({
      status: 200,
      body: { offset: 0, limit: 100, totalCount: 0, results: [] },
    }));
    await c.listVirtualMachines({
      filter: {
        subscriptionIds: [SUBS[0], SUBS[1]],
        regions: ['westeurope', 'north europe'],
        nameContains: 'app & co+/é',
      },
    });
    const filters = 'RegionIds=westeurope&RegionIds=north%20europe&SearchPattern=app%20%26%20co%2B%2F%C3%A9';
    expect(listPaths()).toEqual([
      `GET /api/v8.1/virtualMachines?BackupDestination=ManualSnapshot&ExistsState=All&SubscriptionId=${SUBS[0]}&${filters}&Offset=0&Limit=100`,
      `GET /api/v8.1/virtualMachines?BackupDestination=ManualSnapshot&ExistsState=All&SubscriptionId=${SUBS[1]}&${filters}&Offset=0&Limit=100`,
    ]);
  });

  it('without a filter and manualSnapshotsOnly false sends only ExistsState and the page; Offset moves by what came back', async () => {
    const c = await connect((q) => {
      const offset = Number(q.get('Offset'));
      // The appliance caps pages at 2 whatever Limit asks for.
      const results = ['a', 'b', 'c'].slice(offset, offset + 2).map((id) => vm(id));
      return { status: 200, body: { offset, limit: 2, totalCount: 3, results } };
    });
    const vms = await c.listVirtualMachines({ manualSnapshotsOnly: false, pageSize: 500 });
    expect(vms.map((v) => v.id)).toEqual(['a', 'b', 'c']);
    expect(listPaths()).toEqual([
      'GET /api/v8.1/virtualMachines?ExistsState=All&Offset=0&Limit=500',
      'GET /api/v8.1/virtualMachines?ExistsState=All&Offset=2&Limit=500',
    ]);
  });

  it('without totalCount, pages until a short page', async () => {
    const c = await connect((q) => {
      const offset = Number(q.get('Offset'));
      const results = Array.from({ length: offset === 0 ? 2 : 1 }, (_, i) => vm(`vm-${offset + i}`));
      return { status: 200, body: { offset, limit: 2, totalCount: null, results } };
    });
    expect(await c.listVirtualMachines({ pageSize: 2 })).toHaveLength(3);
    expect(listPaths()).toHaveLength(2);
  });

  it('ignores unknown fields, reads nulls as absent, and defaults missing flags to false', async () => {
    const c = await connect(() => ({
      status: 200,
      body: {
        offset: 0,
        limit: 100,
        totalCount: 1,
        _links: {},
        results: [{ id: 'x', name: null, regionName: null, vmSize: 'Standard_B2s', tags: { a: 1 } }],
      },
    }));
    const [only] = await c.listVirtualMachines();
    expect(only).toEqual({
      id: 'x',
      isController: false,
      isDeleted: false,
    } satisfies Partial<VirtualMachineInfo>);
    expect(Object.keys(only)).not.toContain('vmSize');
  });

  it('an item without an id is a VeeamProtocolError naming the field, not a value', async () => {
    const c = await connect(() => ({
      status: 200,
      body: { offset: 0, limit: 100, totalCount: 2, results: [vm('ok'), { name: 'secret-name' }] },
    }));
    const error = await c.listVirtualMachines().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VeeamProtocolError);
    expect(error).toMatchObject({ route: '/api/v8.1/virtualMachines', field: 'results[1].id' });
    expect(String(error)).not.toContain('secret-name');
  });

  it('stops with VeeamListingLimitError beyond maxVms (default 100,000) of an appliance that never runs out', async () => {
    let served = 0;
    server = await localAppliance((_method, path) => {
      const query = new URLSearchParams(path.split('?')[1]);
      const limit = Number(query.get('Limit'));
      const results = Array.from({ length: limit }, () => vm(`vm-${served++}`));
      return { status: 200, body: { offset: Number(query.get('Offset')), limit, totalCount: 1e9, results } };
    });
    // Without the client's login: the loopback appliance takes any request, and the bound is the subject.
    const transport = createTransport({
      baseUrl: new URL(server.url),
      requestTimeoutMs: 5000,
      maxInFlight: 1,
      secrets: () => [],
      clock: systemClock,
    });
    try {
      const deps = { profile: V8_1, send: transport.send, maxVms: 1000 };
      const error = await listVirtualMachines(deps, { pageSize: 100 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VeeamListingLimitError);
      expect(error).toMatchObject({ reason: 'tooManyVms', route: '/api/v8.1/virtualMachines' });
      expect(listPaths()).toHaveLength(11);
    } finally {
      transport.close();
    }
    expect(DISCOVERY_DEFAULTS.maxVms).toBe(100_000);
  });
});
