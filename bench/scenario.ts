/**
 * One scenario, end to end: a simulator child (started clean, RTT measured, counters reset, then faults
 * switched on), a fresh engine child driving startRun, and the figures of that run.
 */
import os from 'node:os';
import type { SimulatorCounters, SimVmSpec } from '../dev/simulator/types';
import type { EngineRunResult } from './engine';
import type { EngineChildOptions } from './engineChild';
import { benchScript, forkChild, type ChildHandle } from './ipc';
import { perVm, splitRequests, type RequestSplit } from './requests';
import {
  buildFleet,
  FAULT_RULES,
  LATENCY_MS,
  longestSessionMs,
  RETENTION_POINT_MIX,
  SEED,
  type Mode,
  type Scenario,
} from './scenarios';

export interface ScenarioResult {
  scenario: Scenario;
  wallMs: number;
  longestSessionMs: number;
  rttMs: number;
  /** longest session + one round trip. */
  lowerBoundMs: number;
  /** ceil(N / concurrency) sequential round trips: the floor of submitting every delete. */
  submitFloorMs: number;
  /**
   * Per-VM modes: the lower bound with the submission phase in it. The i-th delete (0-based, in target
   * order) cannot go out before ⌊i / concurrency⌋ round trips, so no run ends before
   * max_i(⌊i / concurrency⌋ · RTT + duration_i) + RTT.
   */
  submitBoundMs?: number;
  /** submitBoundMs / wall. */
  submitEfficiency?: number;
  efficiency: number;
  requests: RequestSplit;
  perVm: RequestSplit;
  peakRssMb: number;
  /** Largest heapUsed of the engine child, sampled every 100 ms. */
  peakHeapMb: number;
  cpuSeconds: number;
  /** The machine's 1-minute load average at the end of the run (2 cores shared with other work). */
  load: number;
  simulatorCpuSeconds: number;
  outcomes: EngineRunResult['outcomes'];
  /** Every VM exactly once in the report, each deleted exactly once on the appliance. */
  correct: boolean;
  problems: string[];
  /** Where --heap-snapshot wrote the engine's snapshot. */
  heapSnapshot?: string;
}

export interface RunScenarioOptions {
  engineExecArgv?: string[];
  /** AzureWebJobsStorage for the engine (Azurite): the run takes the lease and writes the ledger. */
  storageConnectionString?: string;
  sessionMs?: { min: number; max: number };
  heapSnapshotDir?: string;
  heapSnapshotAtMs?: number | 'peak';
}

/** The default CLEANUP_CONCURRENCY, for the submission floor. */
const CONCURRENCY = 16;

export interface SimulatorProcess {
  url: string;
  child: ChildHandle;
  counters(): Promise<SimulatorCounters>;
  close(): Promise<void>;
}

export async function startSimulatorProcess(vms: SimVmSpec[], mode?: Mode): Promise<SimulatorProcess> {
  const child = forkChild(benchScript('simulatorChild'));
  const { url } = await child.call<{ url: string }>('start', {
    vms,
    seed: SEED,
    latencyMs: LATENCY_MS,
    ...(mode === 'retention' ? { pointMix: RETENTION_POINT_MIX } : {}),
  });
  return {
    url,
    child,
    counters: () => child.call<SimulatorCounters>('counters'),
    close: async () => {
      await child.call('close').catch(() => undefined);
      await child.stop();
    },
  };
}

/** Median of `samples` sequential GETs of the anonymous health probe, after a warm-up. */
export async function measureRttMs(url: string, samples = 21): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples + 3; i++) {
    const started = performance.now();
    const response = await fetch(`${url}/api/v8.1/system/serviceIsUp`);
    await response.arrayBuffer();
    if (i >= 3) times.push(performance.now() - started);
  }
  return median(times);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export async function runScenario(
  scenario: Scenario,
  options: RunScenarioOptions = {},
): Promise<ScenarioResult> {
  const fleet = buildFleet(scenario.vmCount, options.sessionMs);
  const sim = await startSimulatorProcess(fleet, scenario.mode);
  let engine: ChildHandle | undefined;
  try {
    const rttMs = await measureRttMs(sim.url);
    await sim.child.call('resetCounters');
    if (scenario.faults) await sim.child.call('addFaults', FAULT_RULES);
    const simCpuBefore = await sim.child.call<NodeJS.ResourceUsage>('cpu');

    engine = forkChild(benchScript('engineChild'), options.engineExecArgv);
    const run: EngineChildOptions = {
      url: sim.url,
      vmIds: fleet.map((vm) => vm.id),
      mode: scenario.mode,
      ...(options.storageConnectionString ? { storage: options.storageConnectionString } : {}),
      ...(options.heapSnapshotDir
        ? { heapSnapshotDir: options.heapSnapshotDir, heapSnapshotAtMs: options.heapSnapshotAtMs }
        : {}),
    };
    const result = await engine.call<
      EngineRunResult & {
        peakRssBytes: number;
        peakHeapUsedBytes: number;
        cpuSeconds: number;
        heapSnapshot?: string;
      }
    >('run', run, 15 * 60_000);
    const counters = await sim.counters();
    const simCpuAfter = await sim.child.call<NodeJS.ResourceUsage>('cpu');
    const requests = splitRequests(counters);
    const longest = longestSessionMs(fleet);
    const lowerBoundMs = longest + rttMs;
    const submitBound =
      scenario.mode === 'v1' || scenario.mode === 'v8.1' ? submissionBoundMs(fleet, rttMs) : undefined;
    const problems = checkRun(fleet, result, counters, scenario.mode);
    return {
      scenario,
      wallMs: result.wallMs,
      longestSessionMs: longest,
      rttMs,
      lowerBoundMs,
      submitFloorMs:
        Math.ceil((scenario.mode === 'batch' ? Math.ceil(fleet.length / 100) : fleet.length) / CONCURRENCY) *
        rttMs,
      efficiency: lowerBoundMs / result.wallMs,
      ...(submitBound === undefined
        ? {}
        : { submitBoundMs: submitBound, submitEfficiency: submitBound / result.wallMs }),
      requests,
      perVm: perVm(requests, fleet.length),
      peakRssMb: result.peakRssBytes / 1_048_576,
      peakHeapMb: result.peakHeapUsedBytes / 1_048_576,
      cpuSeconds: result.cpuSeconds,
      load: os.loadavg()[0],
      simulatorCpuSeconds: cpuSecondsBetween(simCpuBefore, simCpuAfter),
      outcomes: result.outcomes,
      correct: problems.length === 0,
      problems,
      ...(result.heapSnapshot ? { heapSnapshot: result.heapSnapshot } : {}),
    };
  } finally {
    await engine?.stop();
    await sim.close();
  }
}

export function submissionBoundMs(fleet: readonly SimVmSpec[], rttMs: number, concurrency = CONCURRENCY) {
  const last = fleet.reduce(
    (max, vm, i) => Math.max(max, Math.floor(i / concurrency) * rttMs + (vm.sessionDurationMs ?? 0)),
    0,
  );
  return last + rttMs;
}

/** What a correct run looks like: every target once, all Succeeded, each deleted exactly once. */
export function checkRun(
  fleet: readonly SimVmSpec[],
  result: Pick<EngineRunResult, 'results' | 'distinctVms' | 'outcomes'>,
  counters: Pick<SimulatorCounters, 'deleteCallsByVm' | 'pointDeleteCallsByPoint'>,
  mode?: Mode,
): string[] {
  const problems: string[] = [];
  if (result.results !== fleet.length || result.distinctVms !== fleet.length) {
    problems.push(`report has ${result.results} results for ${result.distinctVms} of ${fleet.length} VMs`);
  }
  const succeeded = result.outcomes.Succeeded ?? 0;
  if (succeeded !== fleet.length) problems.push(`only ${succeeded} of ${fleet.length} Succeeded`);
  if (mode === 'retention') {
    // Per restore point: no bulk call at all, and no point deleted twice.
    const bulk = Object.keys(counters.deleteCallsByVm).length;
    if (bulk > 0) problems.push(`${bulk} VMs got a bulk delete under retention`);
    const twice = Object.values(counters.pointDeleteCallsByPoint).filter((n) => n !== 1).length;
    if (twice > 0) problems.push(`${twice} restore points were not deleted exactly once`);
    return problems;
  }
  const notOnce = fleet.filter((vm) => counters.deleteCallsByVm[vm.id] !== 1).length;
  if (notOnce > 0) problems.push(`${notOnce} VMs were not deleted exactly once`);
  return problems;
}

function cpuSecondsBetween(a: NodeJS.ResourceUsage, b: NodeJS.ResourceUsage): number {
  return (b.userCPUTime + b.systemCPUTime - a.userCPUTime - a.systemCPUTime) / 1e6;
}
