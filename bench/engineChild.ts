/**
 * Forked by the benchmark once per scenario: runs the engine and reports its own peak RSS, the peak of its
 * JS heap (sampled) and its CPU time. Only the engine lives in this process: the simulator and Azurite have
 * their own, so these figures are the engine's alone.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runEngine, type EngineRunOptions } from './engine';
import { serveParent } from './ipc';

export interface EngineChildOptions extends EngineRunOptions {
  /**
   * Write a heap snapshot into this directory `heapSnapshotAtMs` after the run starts, or with 'peak' after
   * every major GC that leaves the live heap 10 % above the last snapshot's (the file keeps the largest).
   */
  heapSnapshotDir?: string;
  heapSnapshotAtMs?: number | 'peak';
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
    let snapshotLive = 0;
    const writeSnapshot = (dir: string) => {
      mkdirSync(dir, { recursive: true });
      snapshot = v8.writeHeapSnapshot(path.join(dir, `engine-${process.pid}.heapsnapshot`));
      snapshotLive = process.memoryUsage().heapUsed;
    };
    const snapshotTimer =
      heapSnapshotDir === undefined || heapSnapshotAtMs === 'peak'
        ? undefined
        : setTimeout(() => writeSnapshot(heapSnapshotDir), heapSnapshotAtMs);
    const majorGcs =
      heapSnapshotDir === undefined || heapSnapshotAtMs !== 'peak'
        ? undefined
        : new PerformanceObserver((list) => {
            const major = list
              .getEntries()
              .some(
                (e) =>
                  (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR,
              );
            // Right after a major GC heapUsed is close to the live size.
            if (major && process.memoryUsage().heapUsed > snapshotLive * 1.1) writeSnapshot(heapSnapshotDir);
          });
    majorGcs?.observe({ entryTypes: ['gc'] });
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
      majorGcs?.disconnect();
    }
  },
});
