/**
 * Runs that span several appliances, over real HTTP against two simulators: a policy with discovery and
 * exclusions on one appliance and an id list on the other, one report, and each (appliance, VM) handled once.
 */
import { startRun } from '../../shared/cleanup';
import { exitCodeFor } from '../../shared/cli/exitCodes';
import type { Report, VmResult } from '../../shared/report';
import { startSimulator, type SimulatorHandle, type SimVmSpec } from '../../dev/simulator';
import { FAST_CLIENT } from '../support/engine';

const WEU_USER = { username: 'weu-svc', password: 'CANARY-WEU-PASSWORD-51c2' };
const CB_USER = { username: 'cb-svc', password: 'CANARY-CB-PASSWORD-9d0e' };
const SUB_A = '11111111-1111-4111-8111-111111111111';
const SUB_B = '22222222-2222-4222-8222-222222222222';

function weuFleet(): SimVmSpec[] {
  const base = { sessionDurationMs: 30, subscriptionId: SUB_A, regionName: 'westeurope' };
  return [
    { id: 'weu-app-1', name: 'app-web-1', resourceGroupName: 'rg-apps', ...base },
    { id: 'weu-app-2', name: 'app-web-2', resourceGroupName: 'rg-apps', ...base },
    { id: 'weu-sql-1', name: 'app-SQL-1', resourceGroupName: 'rg-apps', ...base },
    { id: 'weu-hold-1', name: 'app-legal-1', resourceGroupName: 'RG-Legal-Hold', ...base },
    { id: 'weu-pinned', name: 'app-pinned', resourceGroupName: 'rg-apps', ...base },
    { id: 'weu-gone', name: 'app-old', resourceGroupName: 'rg-apps', isDeleted: true, ...base },
    // Outside the discovery filter: another subscription, another name, no manual snapshots.
    { id: 'weu-other-sub', name: 'app-web-9', resourceGroupName: 'rg-apps', ...base, subscriptionId: SUB_B },
    { id: 'weu-db-1', name: 'db-1', resourceGroupName: 'rg-apps', ...base },
    { id: 'weu-empty', name: 'app-empty', resourceGroupName: 'rg-apps', manualSnapshots: 0, ...base },
    // The same id as on customer-b: two different targets.
    { id: 'shared-vm', name: 'app-shared', resourceGroupName: 'rg-apps', ...base },
  ];
}

function cbFleet(): SimVmSpec[] {
  return ['cb-1', 'cb-2', 'shared-vm'].map((id) => ({ id, name: id, sessionDurationMs: 30 }));
}

// The appliance's own VM, with manual snapshots and matching the filter: discovery lists it, and it is excluded.
const CONTROLLER = {
  subscriptionId: SUB_A,
  regionName: 'westeurope',
  name: 'app-veeam-controller',
  manualSnapshots: 2,
};

let weu: SimulatorHandle;
let cb: SimulatorHandle;

beforeEach(async () => {
  weu = await startSimulator({ users: [WEU_USER], vms: weuFleet(), controller: CONTROLLER });
  cb = await startSimulator({ users: [CB_USER], vms: cbFleet(), seed: 7 });
});
afterEach(async () => {
  await Promise.all([weu.close(), cb.close()]);
});

function policyEnv(overrides: { cbUrl?: string; cbPassword?: string; weuPassword?: string } = {}) {
  const policy = {
    appliances: [
      {
        name: 'weu',
        url: weu.url,
        usernameSecret: 'weu-username',
        passwordSecret: 'weu-password',
        targets: { discover: { subscriptionIds: [SUB_A], regions: ['westeurope'], nameContains: 'app-' } },
        exclude: { vmIds: ['WEU-PINNED'], names: ['app-sql-*'], resourceGroups: ['rg-legal-hold'] },
      },
      {
        name: 'customer-b',
        url: overrides.cbUrl ?? cb.url,
        usernameSecret: 'cb-username',
        passwordSecret: 'cb-password',
        targets: { vmIds: ['cb-1', 'cb-2', 'shared-vm'] },
      },
    ],
  };
  return {
    CLEANUP_POLICY: JSON.stringify(policy),
    WEU_USERNAME: WEU_USER.username,
    WEU_PASSWORD: overrides.weuPassword ?? WEU_USER.password,
    CB_USERNAME: CB_USER.username,
    CB_PASSWORD: overrides.cbPassword ?? CB_USER.password,
  };
}

async function run(env: Record<string, string>, extra: Parameters<typeof startRun>[0] | object = {}) {
  const started = await startRun({ trigger: 'cli', env, storage: null, client: FAST_CLIENT, ...extra });
  if (started.status !== 'completed') throw new Error(`run did not complete: ${started.status}`);
  return started.report;
}

const on = (report: Report, appliance: string) => report.results.filter((r) => r.appliance === appliance);
const byId = (results: VmResult[]) => Object.fromEntries(results.map((r) => [r.vmId, r]));

describe('a run over two appliances', () => {
  it('discovers, excludes and deletes on each appliance, in one report', async () => {
    const report = await run(policyEnv());

    expect(report.appliances.map((a) => [a.name, a.origin, a.apiVersion, a.failure])).toEqual([
      ['weu', weu.origin, 'v8.1', undefined],
      ['customer-b', cb.origin, 'v8.1', undefined],
    ]);
    const weuResults = byId(on(report, 'weu'));
    expect(Object.keys(weuResults).sort()).toEqual(
      [
        'weu-app-1',
        'weu-app-2',
        'weu-sql-1',
        'weu-hold-1',
        'weu-pinned',
        'weu-gone',
        'shared-vm',
        weu.controllerVmId,
      ]
        .filter((id): id is string => id !== undefined)
        .sort(),
    );
    expect(weuResults['weu-sql-1']).toMatchObject({
      outcome: 'Excluded',
      excludedBy: 'exclude.names "app-sql-*"',
    });
    expect(weuResults['weu-hold-1']).toMatchObject({
      outcome: 'Excluded',
      excludedBy: 'exclude.resourceGroups "rg-legal-hold"',
    });
    expect(weuResults['weu-pinned']).toMatchObject({
      outcome: 'Excluded',
      excludedBy: 'exclude.vmIds "WEU-PINNED"',
    });
    expect(weuResults[weu.controllerVmId as string]).toMatchObject({
      outcome: 'Excluded',
      excludedBy: 'controller VM',
    });
    for (const id of ['weu-app-1', 'weu-app-2', 'weu-gone', 'shared-vm']) {
      expect(weuResults[id].outcome).toBe('Succeeded');
    }
    expect(on(report, 'customer-b').map((r) => [r.vmId, r.outcome])).toEqual([
      ['cb-1', 'Succeeded'],
      ['cb-2', 'Succeeded'],
      ['shared-vm', 'Succeeded'],
    ]);

    // On the appliances: every target deleted once, nothing else touched, not even a GET for excluded VMs.
    expect(weu.counters.deleteCallsByVm).toEqual({
      'weu-app-1': 1,
      'weu-app-2': 1,
      'weu-gone': 1,
      'shared-vm': 1,
    });
    expect(cb.counters.deleteCallsByVm).toEqual({ 'cb-1': 1, 'cb-2': 1, 'shared-vm': 1 });
    expect(weu.getVm('weu-sql-1')?.restorePoints.some((p) => p.backupDestination === 'ManualSnapshot')).toBe(
      true,
    );
    expect(weu.getVm('weu-db-1')?.restorePoints.some((p) => p.backupDestination === 'ManualSnapshot')).toBe(
      true,
    );
    expect(weu.counters.requestsByRoute['v8.1.getVm'] ?? 0).toBe(0);

    expect(report.totals).toMatchObject({ targets: 11, succeeded: 7, excluded: 4 });
    expect(report.appliances[0].totals).toMatchObject({ targets: 8, succeeded: 4, excluded: 4 });
    expect(exitCodeFor(report)).toBe(0); // Excluded counts as clean
    expect(JSON.stringify(report)).not.toMatch(/CANARY/);
  });

  it('completes the other appliance when one is down, and fails the run only when both are', async () => {
    const down = await startSimulator({ users: [CB_USER], vms: cbFleet() });
    const downUrl = down.url;
    await down.close();

    const report = await run(policyEnv({ cbUrl: downUrl }));
    expect(report.failure).toBeUndefined();
    expect(report.appliances[1]).toMatchObject({ name: 'customer-b', apiVersion: null });
    expect(report.appliances[1].failure?.kind).toBe('unreachable');
    expect(on(report, 'customer-b').map((r) => [r.vmId, r.outcome, r.skipReason])).toEqual([
      ['cb-1', 'Skipped', 'appliance unavailable'],
      ['cb-2', 'Skipped', 'appliance unavailable'],
      ['shared-vm', 'Skipped', 'appliance unavailable'],
    ]);
    expect(on(report, 'weu').filter((r) => r.outcome === 'Succeeded')).toHaveLength(4);
    expect(exitCodeFor(report)).toBe(1);

    const both = await run(policyEnv({ cbUrl: downUrl, weuPassword: 'wrong-password' }));
    expect(both.failure?.message).toMatch(/^no appliance could be used: weu: .*; customer-b: /);
    expect(both.appliances.map((a) => a.failure?.kind)).toEqual(['auth', 'unreachable']);
    expect(exitCodeFor(both)).toBe(3);
    expect(weu.counters.deleteCallsByVm).toEqual({
      'weu-app-1': 1,
      'weu-app-2': 1,
      'weu-gone': 1,
      'shared-vm': 1,
    });
  });

  it('an appliance whose login is refused gets its failure; a discovering one reports no targets', async () => {
    const report = await run(policyEnv({ weuPassword: 'wrong-password' }));
    expect(report.appliances[0].failure?.kind).toBe('auth');
    expect(on(report, 'weu')).toEqual([]);
    expect(on(report, 'customer-b').every((r) => r.outcome === 'Succeeded')).toBe(true);
    // Nothing to report Skipped on a discovering appliance, so its failure alone makes the exit code 1.
    expect(exitCodeFor(report)).toBe(1);
    expect(JSON.stringify(report)).not.toMatch(/wrong-password|CANARY/);
  });

  it('runs only the named appliance, and only the named targets', async () => {
    const env = policyEnv();
    const only = await run(env, { appliance: 'customer-b' });
    expect(only.appliances.map((a) => a.name)).toEqual(['customer-b']);
    expect(weu.counters.tokensIssued.password).toBe(0);

    const narrowed = await run(env, {
      targets: [
        { appliance: 'weu', vmId: 'weu-app-2' },
        { appliance: 'weu', vmId: 'weu-db-1' },
        { appliance: 'customer-b', vmId: 'cb-2' },
      ],
    });
    expect(narrowed.results.map((r) => [r.appliance, r.vmId, r.outcome])).toEqual([
      ['weu', 'weu-app-2', 'Succeeded'],
      ['weu', 'weu-db-1', 'InvalidId'],
      ['customer-b', 'cb-2', 'Succeeded'],
    ]);
    expect(narrowed.results[1].error).toBe('is not among the VMs that appliance weu discovers');
    expect(weu.counters.deleteCallsByVm).toEqual({ 'weu-app-2': 1 });
  });

  it('keeps each (appliance, VM) to one delete when deletes are dropped after they reached the appliance', async () => {
    for (const sim of [weu, cb]) {
      sim.addFault({ route: 'v8.1.deleteManualSnapshots', kind: 'drop', probability: 0.5, phase: 'after' });
    }
    const report = await run(policyEnv());
    const keys = report.results.map((r) => `${r.appliance}/${r.vmId}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const count of [
      ...Object.values(weu.counters.deleteCallsByVm),
      ...Object.values(cb.counters.deleteCallsByVm),
    ]) {
      expect(count).toBe(1);
    }
  });
});
