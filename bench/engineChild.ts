/** Forked by the benchmark once per scenario: runs the engine and reports its own peak RSS and CPU time. */
import { runEngine, type EngineRunOptions } from './engine';
import { serveParent } from './ipc';

serveParent({
  async run(payload) {
    const result = await runEngine(payload as EngineRunOptions);
    const usage = process.resourceUsage();
    return {
      ...result,
      // maxRSS is in KiB and covers the whole life of this process.
      peakRssBytes: usage.maxRSS * 1024,
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    };
  },
});
