import { startSimulator, type SimulatorHandle } from '../../dev/simulator';
import { runSequentialBaseline } from '../../bench/baseline';
import { runEngine } from '../../bench/engine';
import { perVm, splitRequests } from '../../bench/requests';
import { checkRun } from '../../bench/scenario';
import { buildFleet, longestSessionMs, type Mode } from '../../bench/scenarios';

// A few VMs through the benchmark's own driver code, with the simulator in-process and short sessions.
// Correctness only: every VM once, counters that add up. No timing assertions.
const FLEET = buildFleet(6, { min: 20, max: 80 }, 7);
const IDS = FLEET.map((vm) => vm.id);
const FAST_POLL = { poll: { initialIntervalMs: 20, maxIntervalMs: 50 } };

let sim: SimulatorHandle;

beforeEach(async () => {
  sim = await startSimulator({ vms: FLEET, seed: 7, latencyMs: 1 });
});

afterEach(async () => {
  await sim.close();
});

describe('benchmark fleet', () => {
  it('is reproducible from its seed and keeps durations inside the range', () => {
    const again = buildFleet(6, { min: 20, max: 80 }, 7);
    expect(again).toEqual(FLEET);
    expect(new Set(IDS).size).toBe(IDS.length);
    for (const vm of FLEET) expect(vm.sessionDurationMs).toBeGreaterThanOrEqual(20);
    expect(longestSessionMs(FLEET)).toBeLessThanOrEqual(80);
  });
});

describe.each<Mode>(['v1', 'v8.1', 'batch'])('engine driver, %s', (mode) => {
  it('deletes every VM exactly once and the request split adds up', async () => {
    const result = await runEngine({ url: sim.url, vmIds: IDS, mode, client: FAST_POLL });
    expect(result.apiVersion).toBe(mode === 'v1' ? 'v1' : 'v8.1');
    expect(checkRun(FLEET, result, sim.counters)).toEqual([]);

    const split = splitRequests(sim.counters);
    const total = Object.values(sim.counters.requestsByRoute).reduce((a, b) => a + b, 0);
    expect(split.total).toBe(total);
    expect(split.delete + split.poll + split.auth + split.other).toBe(total);
    expect(split.delete).toBe(mode === 'batch' ? 1 : IDS.length);
    expect(split.auth).toBeGreaterThanOrEqual(1);
    expect(split.poll).toBeGreaterThanOrEqual(1);
    expect(perVm(split, IDS.length).total).toBeCloseTo(total / IDS.length, 10);
  });
});

describe('engine driver, retention', () => {
  it('deletes per restore point, never in bulk, each point once, with the listings counted as list', async () => {
    await sim.close();
    sim = await startSimulator({
      vms: FLEET,
      seed: 7,
      latencyMs: 1,
      pointMix: { manualPerVm: { min: 2, max: 4 } },
    });
    const result = await runEngine({ url: sim.url, vmIds: IDS, mode: 'retention', client: FAST_POLL });
    expect(checkRun(FLEET, result, sim.counters, 'retention')).toEqual([]);
    const split = splitRequests(sim.counters);
    expect(split.list).toBeGreaterThanOrEqual(IDS.length);
    expect(split.delete).toBe(Object.keys(sim.counters.pointDeleteCallsByPoint).length);
    expect(split.list + split.delete + split.poll + split.auth + split.other).toBe(split.total);
  });
});

describe('sequential baseline', () => {
  it('deletes each VM once, one after the other, and counts its own requests like the simulator does', async () => {
    const result = await runSequentialBaseline({ url: sim.url, vmIds: IDS, pollIntervalMs: 10 });
    expect(Object.keys(result.statuses).sort()).toEqual([...IDS].sort());
    expect(Object.values(result.statuses).every((s) => s === 'Success')).toBe(true);
    for (const id of IDS) expect(sim.counters.deleteCallsByVm[id]).toBe(1);
    const split = splitRequests(sim.counters);
    expect(split).toMatchObject({ delete: IDS.length, poll: result.requests.poll, auth: 1, other: 0 });
    // Never more than one session running at a time: sequential by construction.
    expect(sim.sessions().filter((s) => s.status === 'Running')).toHaveLength(0);
  });
});
