import { startSimulator, startSimulators, type SimulatorHandle } from '../../dev/simulator';
import { parseFaultArg } from '../../dev/simulator/faultArg';
import { call, tokenRequest } from './helpers';

interface Vm {
  id: string;
  name: string;
  subscriptionId: string;
  resourceGroupName: string;
  regionName: string;
  azureId: string;
  isController: boolean;
  isDeleted: boolean;
}

async function tokenOf(sim: SimulatorHandle): Promise<string> {
  const { username, password } = sim.credentials;
  return (await tokenRequest(sim, { grant_type: 'Password', username, password })).json.access_token;
}

describe('simulator discovery: VM fields and the filters of GET /virtualMachines', () => {
  let sims: SimulatorHandle[];
  let sim: SimulatorHandle;
  let token: string;
  beforeAll(async () => {
    sims = await startSimulators({
      count: 2,
      base: { fleet: { count: 240, namePrefixes: ['app-', 'SQL-', 'web-', 'dc'], deletedRate: 0.1 } },
    });
    sim = sims[0];
    sim.setVm({ id: 'vm-no-manual', name: 'app-plain', manualSnapshots: 0 });
    token = await tokenOf(sim);
  });
  afterAll(() => Promise.all(sims.map((s) => s.close())));

  const get = (query: string) => call(`${sim.url}/api/v8.1/virtualMachines?${query}`, { token });
  /** Every VM a filtered listing returns, paging as a client would with the default page. */
  const all = async (query: string): Promise<Vm[]> => {
    const found: Vm[] = [];
    for (let offset = 0; ; offset += 100) {
      const page = await get(`${query}&Offset=${offset}`);
      expect(page.status).toBe(200);
      expect(page.json.limit).toBe(100);
      found.push(...page.json.results);
      if (found.length >= page.json.totalCount || page.json.results.length === 0) return found;
    }
  };

  it('carries subscription, resource group, region, one controller and some deleted VMs, over several pages', async () => {
    const vms = await all('');
    expect(vms).toHaveLength(242);
    expect(vms.filter((vm) => vm.isController).map((vm) => vm.id)).toEqual([sim.controllerVmId]);
    expect(vms.filter((vm) => vm.isDeleted).length).toBeGreaterThan(5);
    expect(new Set(vms.map((vm) => vm.subscriptionId)).size).toBe(2);
    expect(new Set(vms.map((vm) => vm.resourceGroupName))).toEqual(
      new Set(['rg-app', 'rg-data', 'rg-legal-hold']),
    );
    expect(new Set(vms.map((vm) => vm.regionName)).size).toBe(4);
    for (const vm of vms) {
      expect(vm.azureId).toBe(
        `/subscriptions/${vm.subscriptionId}/resourcegroups/${vm.resourceGroupName}/providers/microsoft.compute/virtualmachines/${vm.name}`.toLowerCase(),
      );
    }
  });

  it('filters by SubscriptionId, RegionIds (repeatable), SearchPattern and BackupDestination together', async () => {
    const vms = await all('');
    const subscription = vms[1].subscriptionId;
    const regions = ['westeurope', 'EastUS'];
    const query =
      `SubscriptionId=${subscription}&RegionIds=${regions[0]}&RegionIds=${regions[1]}` +
      '&SearchPattern=sql&BackupDestination=ManualSnapshot';
    const found = await all(query);
    const expected = vms.filter(
      (vm) =>
        vm.subscriptionId === subscription &&
        ['westeurope', 'eastus'].includes(vm.regionName) &&
        vm.name.toLowerCase().includes('sql'),
    );
    expect(expected.length).toBeGreaterThan(3);
    expect(found.map((vm) => vm.id)).toEqual(expected.map((vm) => vm.id));
    const inSubscription = vms.filter((vm) => vm.subscriptionId === subscription).length;
    expect((await all(`SubscriptionId=${subscription.toUpperCase()}`)).length).toBe(inSubscription);
  });

  it('BackupDestination=ManualSnapshot lists only VMs that have manual points, deleted ones included', async () => {
    const manual = await all('BackupDestination=ManualSnapshot');
    expect(manual.map((vm) => vm.id)).not.toContain('vm-no-manual');
    expect(manual).toHaveLength(241);
    expect(manual.some((vm) => vm.isDeleted)).toBe(true);
    expect((await all('BackupDestination=Snapshot')).length).toBe(241);
  });

  it('ExistsState selects existing or deleted VMs (default: all)', async () => {
    const deleted = await all('ExistsState=OnlyDeleted');
    const existing = await all('ExistsState=OnlyExists');
    expect(deleted.every((vm) => vm.isDeleted)).toBe(true);
    expect(existing.every((vm) => !vm.isDeleted)).toBe(true);
    expect(deleted.length + existing.length).toBe(242);
    expect((await all('ExistsState=All')).length).toBe(242);
  });

  it('rejects malformed filters with 400 naming the parameter', async () => {
    for (const [query, field] of [
      ['SubscriptionId=not-a-uuid', 'SubscriptionId'],
      ['ExistsState=Gone', 'ExistsState'],
      ['BackupDestination=Tape', 'BackupDestination'],
    ]) {
      const reply = await get(query);
      expect(reply.status).toBe(400);
      expect(Object.keys(reply.json.errors)).toEqual([field]);
    }
  });

  it('v1 has no filters: the whole fleet, with subscription and group only in azureId', async () => {
    const vms = await all('');
    const reply = await call(
      `${sim.url}/api/v1/virtualMachines?SubscriptionId=${vms[0].subscriptionId}&SearchPattern=sql&limit=500`,
      { token },
    );
    expect(reply.json.totalCount).toBe(242);
    expect(reply.json.results[0].subscriptionId).toBeUndefined();
    expect(reply.json.results[0].azureId).toContain(`/subscriptions/${vms[0].subscriptionId}/`);
  });

  it('the second appliance has its own fleet, controller and credentials', async () => {
    const other = sims[1];
    expect(other.credentials).toEqual({ username: 'veeam-admin-2', password: 'veeam-password-2' });
    const bad = await tokenRequest(other, {
      grant_type: 'Password',
      ...{ username: 'veeam-admin', password: 'veeam-password' },
    });
    expect(bad.status).toBe(401);
    const otherToken = await tokenOf(other);
    const page = await call(`${other.url}/api/v8.1/virtualMachines?Limit=-1`, { token: otherToken });
    expect(page.json.totalCount).toBe(241);
    expect(other.controllerVmId).toBeDefined();
    expect(other.controllerVmId).not.toBe(sim.controllerVmId);
    expect(sim.vmIds().filter((id) => other.vmIds().includes(id))).toEqual([]);
  });
});

describe('simulator explicit discovery fields', () => {
  it('takes subscription, group, region and flags from the VM spec', async () => {
    const sim = await startSimulator({
      vms: [
        {
          id: 'vm-x',
          name: 'dc01',
          subscriptionId: '3a9a4930-0000-4000-8000-000000000001',
          resourceGroupName: 'rg-legal-hold',
          regionName: 'ukwest',
          isDeleted: true,
        },
        { id: 'vm-y', isController: true },
      ],
      controller: false,
    });
    try {
      const token = await tokenOf(sim);
      const reply = await call(`${sim.url}/api/v8.1/virtualMachines/vm-x`, { token });
      expect(reply.json).toMatchObject({
        subscriptionId: '3a9a4930-0000-4000-8000-000000000001',
        resourceGroupName: 'rg-legal-hold',
        regionName: 'ukwest',
        isDeleted: true,
        isController: false,
      });
      expect(sim.controllerVmId).toBe('vm-y');
      const byRegion = await call(`${sim.url}/api/v8.1/virtualMachines?RegionIds=ukwest`, { token });
      expect(byRegion.json.results.map((vm: Vm) => vm.id)).toEqual(['vm-x']);
    } finally {
      await sim.close();
    }
  });

  it('startSimulators closes what it started when one appliance cannot start', async () => {
    const blocker = await startSimulator({ fleet: { count: 1 } });
    try {
      const port = Number(new URL(blocker.url).port);
      await expect(
        startSimulators({
          count: 2,
          base: { fleet: { count: 1 } },
          each: (i) => ({ port: i === 1 ? port : 0 }),
        }),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await blocker.close();
    }
  });
});

describe('simulator listing faults: an appliance a discovery client must not trust', () => {
  let sim: SimulatorHandle;
  let token: string;
  const SUBSCRIPTION = '3a9a4930-0000-4000-8000-00000000000a';
  beforeAll(async () => {
    sim = await startSimulator({
      vms: Array.from({ length: 30 }, (_, i) => ({
        id: `vm-${i}`,
        name: i % 2 === 0 ? `app-${i}` : `sql-${i}`,
        subscriptionId: i < 10 ? SUBSCRIPTION : '3a9a4930-0000-4000-8000-00000000000b',
        regionName: i % 3 === 0 ? 'ukwest' : 'eastus',
        manualSnapshots: i === 0 ? 0 : 1,
        isDeleted: i === 4,
      })),
    });
    token = await tokenOf(sim);
  });
  afterEach(() => sim.clearFaults());
  afterAll(() => sim.close());

  const list = async (path: string) => (await call(`${sim.url}${path}`, { token })).json;
  const ids = (page: { results: Vm[] }) => page.results.map((vm) => vm.id);
  const filtered =
    `/api/v8.1/virtualMachines?BackupDestination=ManualSnapshot&ExistsState=OnlyExists&SubscriptionId=${SUBSCRIPTION}` +
    '&RegionIds=ukwest&SearchPattern=APP&Limit=100';

  it('ignoreFilters answers every VM whatever the filters, but still validates them', async () => {
    expect(ids(await list(filtered))).toEqual(['vm-6']);
    sim.addFault({ route: 'v8.1.listVms', kind: 'ignoreFilters', times: 2 });
    const page = await list(filtered);
    expect(page.totalCount).toBe(30);
    expect(ids(page)).toEqual(sim.vmIds());
    const bad = await call(`${sim.url}/api/v8.1/virtualMachines?SubscriptionId=nope`, { token });
    expect(bad.status).toBe(400);
    expect(ids(await list(filtered))).toEqual(['vm-6']);
  });

  it('ignoreOffset answers the first page whatever Offset asks (v8.1 and v1)', async () => {
    sim.addFault({ route: '*', kind: 'ignoreOffset' });
    for (const path of [
      '/api/v8.1/virtualMachines?Offset=20&Limit=10',
      '/api/v1/virtualMachines?offset=20&limit=10',
    ]) {
      const page = await list(path);
      expect({ offset: page.offset, totalCount: page.totalCount }).toEqual({ offset: 0, totalCount: 30 });
      expect(ids(page)).toEqual(sim.vmIds().slice(0, 10));
    }
  });

  it('inflateTotalCount claims a million more VMs; pages past the end are empty', async () => {
    sim.addFault({ route: 'v8.1.listVms', kind: 'inflateTotalCount' });
    const last = await list('/api/v8.1/virtualMachines?Offset=20&Limit=10');
    expect(last.totalCount).toBe(1_000_030);
    expect(ids(last)).toEqual(sim.vmIds().slice(20));
    expect((await list('/api/v8.1/virtualMachines?Offset=30&Limit=10')).results).toEqual([]);
  });

  it('a listing fault on * is spent only on the VM listings', async () => {
    sim.addFault({ route: '*', kind: 'ignoreFilters', times: 1 });
    const one = await call(`${sim.url}/api/v8.1/virtualMachines/vm-1`, { token });
    expect(one.status).toBe(200);
    await call(`${sim.url}/api/v8.1/restorePoints/virtualMachines?VirtualMachineId=vm-1`, { token });
    expect((await list(filtered)).totalCount).toBe(30);
    expect(ids(await list(filtered))).toEqual(['vm-6']);
  });

  it('the CLI takes the listing faults', () => {
    expect(parseFaultArg('v8.1.listVms:ignoreFilters')).toEqual({
      route: 'v8.1.listVms',
      kind: 'ignoreFilters',
    });
    expect(parseFaultArg('*:ignoreOffset:0.5')).toEqual({
      route: '*',
      kind: 'ignoreOffset',
      probability: 0.5,
    });
    expect(parseFaultArg('v1.listVms:inflateTotalCount')).toEqual({
      route: 'v1.listVms',
      kind: 'inflateTotalCount',
    });
  });
});
