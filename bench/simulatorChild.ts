/** Forked by the benchmark: one appliance simulator in its own process, so its CPU is not the engine's. */
import {
  startSimulator,
  type FaultRule,
  type SimulatorHandle,
  type SimulatorOptions,
} from '../dev/simulator';
import { serveParent } from './ipc';

let sim: SimulatorHandle | undefined;

serveParent({
  async start(options) {
    if (sim) await sim.close();
    sim = await startSimulator({ ...(options as SimulatorOptions), host: '127.0.0.1', port: 0 });
    return { url: sim.url };
  },
  counters: () => sim?.counters,
  resetCounters: () => sim?.resetCounters(),
  addFaults: (rules) => {
    for (const rule of rules as FaultRule[]) sim?.addFault(rule);
  },
  cpu: () => process.resourceUsage(),
  async close() {
    await sim?.close();
    sim = undefined;
  },
});
