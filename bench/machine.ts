/** The machine the figures came from. */
import os from 'node:os';

export interface MachineInfo {
  date: string;
  node: string;
  cpu: string;
  cores: number;
  memoryGb: number;
  platform: string;
  /** Milliseconds of the fixed CPU check (see cpuCheckMs) when the run started. */
  cpuCheckMs: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: os.totalmem() / 1024 ** 3,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuCheckMs: cpuCheckMs(),
  };
}

/**
 * A fixed piece of the engine's kind of work (JSON round trips of a session-sized answer), timed. The load
 * average does not show a throttled or oversubscribed host; this does, so figures from such a host can be
 * told apart from the engine's own. The best of three, to leave out a stray pause.
 */
export function cpuCheckMs(): number {
  const session = {
    id: '5b3f8d2e-0000-4000-8000-000000000001',
    type: 'ManualSnapshotDeletion',
    status: 'Running',
    executionStartTime: '2026-12-01T00:00:00Z',
    _links: { self: { href: '/api/v8.1/jobSessions/5b3f8d2e-0000-4000-8000-000000000001' } },
  };
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    let length = 0;
    for (let i = 0; i < 100_000; i++) length += JSON.stringify(JSON.parse(JSON.stringify(session))).length;
    best = Math.min(best, performance.now() - started);
    if (length === 0) throw new Error('unreachable');
  }
  return Math.round(best);
}
