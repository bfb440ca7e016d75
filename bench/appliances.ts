/**
 * The policy scenarios: discovery over one appliance's VM listing, and one run over several appliances.
 * Each appliance is its own simulator child and the engine its own child, as in the other scenarios; the
 * engine reads a cleanup policy (CLEANUP_POLICY), the way an admin configures several appliances.
 */
import os from 'node:os';
import { DEFAULT_USER } from '../dev/simulator';
import type { SimVmSpec } from '../dev/simulator/types';
import { createVeeamClient } from '../shared/veeam/client';
import type { EngineRunOptions, EngineRunResult } from './engine';
import { benchScript, forkChild } from './ipc';
import { perVm, splitRequests, type RequestSplit } from './requests';
import { measureRttMs, startSimulatorProcess, type SimulatorProcess } from './scenario';
import { buildFleet, longestSessionMs, SEED } from './scenarios';

export interface ApplianceScenarioResult {
  name: string;
  appliances: number;
  vmCount: number;
  wallMs: number;
  lowerBoundMs: number;
  efficiency: number;
  /** Discovery only: GET /virtualMachines requests of one listing, and how long it took. */
  listing?: { requests: number; ms: number };
  requests: RequestSplit;
  perVm: RequestSplit;
  peakRssMb: number;
  load: number;
  correct: boolean;
  problems: string[];
}

/** The environment of a policy run over `sims`: every appliance with the simulator's one user. */
function policyEnv(
  sims: readonly SimulatorProcess[],
  targets: (index: number) => Record<string, unknown>,
): Record<string, string> {
  const policy = {
    appliances: sims.map((sim, index) => ({
      name: `appliance-${index + 1}`,
      url: sim.url,
      usernameSecret: 'bench-username',
      passwordSecret: 'bench-password',
      apiVersion: 'v8.1',
      targets: targets(index),
    })),
  };
  return {
    CLEANUP_POLICY: JSON.stringify(policy),
    BENCH_USERNAME: DEFAULT_USER.username,
    BENCH_PASSWORD: DEFAULT_USER.password,
  };
}

/** One listing of every VM with manual snapshots, timed from the bench process (login excluded). */
async function timeListing(sim: SimulatorProcess): Promise<{ requests: number; ms: number; vms: number }> {
  const client = createVeeamClient({
    baseUrl: sim.url,
    username: DEFAULT_USER.username,
    password: DEFAULT_USER.password,
    apiVersion: 'v8.1',
  });
  try {
    await client.connect();
    const before = client.requestCounts.list;
    const started = performance.now();
    const vms = await client.listVirtualMachines();
    return { requests: client.requestCounts.list - before, ms: performance.now() - started, vms: vms.length };
  } finally {
    await client.logout();
    client.close();
  }
}

async function runPolicy(
  name: string,
  fleets: SimVmSpec[][],
  targets: (index: number, fleet: SimVmSpec[]) => Record<string, unknown>,
  measureListing: boolean,
): Promise<ApplianceScenarioResult> {
  const sims: SimulatorProcess[] = [];
  const engine = forkChild(benchScript('engineChild'));
  try {
    for (const fleet of fleets) sims.push(await startSimulatorProcess(fleet));
    const rttMs = await measureRttMs(sims[0].url);
    const listing = measureListing ? await timeListing(sims[0]) : undefined;
    await Promise.all(sims.map((sim) => sim.child.call('resetCounters')));

    const run: EngineRunOptions = {
      url: sims[0].url,
      vmIds: [],
      mode: 'v8.1',
      env: policyEnv(sims, (index) => targets(index, fleets[index])),
    };
    const result = await engine.call<EngineRunResult & { peakRssBytes: number }>('run', run, 15 * 60_000);
    const counters = await Promise.all(sims.map((sim) => sim.counters()));
    const vmCount = fleets.reduce((sum, fleet) => sum + fleet.length, 0);
    const byRoute: Record<string, number> = {};
    for (const c of counters) {
      for (const [route, n] of Object.entries(c.requestsByRoute)) byRoute[route] = (byRoute[route] ?? 0) + n;
    }
    const requests = splitRequests({ requestsByRoute: byRoute });
    const problems: string[] = [];
    if (result.results !== vmCount) problems.push(`report has ${result.results} results for ${vmCount} VMs`);
    if ((result.outcomes.Succeeded ?? 0) !== vmCount) {
      problems.push(`only ${result.outcomes.Succeeded ?? 0} of ${vmCount} Succeeded`);
    }
    fleets.forEach((fleet, index) => {
      const notOnce = fleet.filter((vm) => counters[index].deleteCallsByVm[vm.id] !== 1).length;
      if (notOnce > 0) problems.push(`appliance-${index + 1}: ${notOnce} VMs not deleted exactly once`);
    });
    if (listing && listing.vms !== fleets[0].length) {
      problems.push(`the listing found ${listing.vms} of ${fleets[0].length} VMs`);
    }
    const lowerBoundMs = Math.max(...fleets.map(longestSessionMs)) + rttMs;
    return {
      name,
      appliances: fleets.length,
      vmCount,
      wallMs: result.wallMs,
      lowerBoundMs,
      efficiency: lowerBoundMs / result.wallMs,
      ...(listing ? { listing: { requests: listing.requests, ms: listing.ms } } : {}),
      requests,
      perVm: perVm(requests, vmCount),
      peakRssMb: result.peakRssBytes / 1_048_576,
      load: os.loadavg()[0],
      correct: problems.length === 0,
      problems,
    };
  } finally {
    await engine.stop();
    await Promise.all(sims.map((sim) => sim.close()));
  }
}

/** `vmCount` VMs with manual snapshots on one appliance, found by discovery (pages of 100). */
export function runDiscoveryScenario(vmCount = 3000): Promise<ApplianceScenarioResult> {
  return runPolicy(`discovery · ${vmCount}`, [buildFleet(vmCount)], () => ({ discover: {} }), true);
}

/** `appliances` × `perAppliance` VMs, each appliance with its own id list, all in one run. */
export function runAppliancesScenario(appliances = 3, perAppliance = 1000): Promise<ApplianceScenarioResult> {
  const fleets = Array.from({ length: appliances }, (_, i) =>
    buildFleet(perAppliance, undefined, SEED + i + 1),
  );
  return runPolicy(
    `${appliances} appliances × ${perAppliance}`,
    fleets,
    (_, fleet) => ({ vmIds: fleet.map((vm) => vm.id) }),
    false,
  );
}

export function formatApplianceResults(results: readonly ApplianceScenarioResult[]): string {
  const header =
    '| scenario | VMs | wall | lower bound | efficiency | listing | requests/VM | peak RSS | load | correct |';
  const rows = results.map((r) =>
    [
      r.name,
      String(r.vmCount),
      `${(r.wallMs / 1000).toFixed(1)} s`,
      `${(r.lowerBoundMs / 1000).toFixed(1)} s`,
      r.efficiency.toFixed(3),
      r.listing ? `${r.listing.requests} requests, ${(r.listing.ms / 1000).toFixed(2)} s` : '-',
      r.perVm.total.toFixed(2),
      `${r.peakRssMb.toFixed(0)} MB`,
      r.load.toFixed(1),
      r.correct ? 'yes' : `no: ${r.problems.join('; ')}`,
    ].join(' | '),
  );
  return [header, '|---|---|---|---|---|---|---|---|---|---|', ...rows.map((row) => `| ${row} |`)].join('\n');
}
