/**
 * Forked by the benchmark once per scenario: runs the engine and reports its own peak RSS, the peak of its
 * JS heap (sampled) and its CPU time. Only the engine lives in this process: the simulator and Azurite have
 * their own, so these figures are the engine's alone.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { runEngine, type EngineRunOptions } from './engine';
import { serveParent } from './ipc';

export interface EngineChildOptions extends EngineRunOptions {
  /** Write one heap snapshot into this directory `heapSnapshotAtMs` after the run starts. */
  heapSnapshotDir?: string;
  heapSnapshotAtMs?: number;
}

const SAMPLE_MS = 100;

serveParent({
  async run(payload) {
    const { heapSnapshotDir, heapSnapshotAtMs = 6_000, ...run } = payload as EngineChildOptions;
    let peakHeapUsed = 0;
    const sampler = setInterval(() => {
      peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed);
    }, SAMPLE_MS);
    let snapshot: string | undefined;
    const snapshotTimer =
      heapSnapshotDir === undefined
        ? undefined
        : setTimeout(() => {
            mkdirSync(heapSnapshotDir, { recursive: true });
            snapshot = v8.writeHeapSnapshot(path.join(heapSnapshotDir, `engine-${process.pid}.heapsnapshot`));
          }, heapSnapshotAtMs);
    try {
      const result = await runEngine(run);
      const usage = process.resourceUsage();
      return {
        ...result,
        // maxRSS is in KiB and covers the whole life of this process.
        peakRssBytes: usage.maxRSS * 1024,
        peakHeapUsedBytes: peakHeapUsed,
        cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
        ...(snapshot ? { heapSnapshot: snapshot } : {}),
      };
    } finally {
      clearInterval(sampler);
      clearTimeout(snapshotTimer);
    }
  },
});
