/** The sequential baseline against its own simulator child, measured at a small N and extrapolated. */
import { runSequentialBaseline } from './baseline';
import { startSimulatorProcess } from './scenario';
import { buildFleet } from './scenarios';

export interface BaselineFigures {
  measuredVms: number;
  measuredWallMs: number;
  pollIntervalMs: number;
  extrapolatedVms: number;
  /** measuredWallMs × extrapolatedVms / measuredVms: the loop is strictly sequential, so time is linear in N. */
  extrapolatedWallMs: number;
  allSucceeded: boolean;
}

export async function measureBaseline(measuredVms = 10, extrapolatedVms = 300): Promise<BaselineFigures> {
  // The first VMs of the 300-VM scenario's fleet: same seed, same durations.
  const fleet = buildFleet(extrapolatedVms).slice(0, measuredVms);
  const sim = await startSimulatorProcess(fleet);
  try {
    const pollIntervalMs = 5_000;
    const result = await runSequentialBaseline({
      url: sim.url,
      vmIds: fleet.map((vm) => vm.id),
      pollIntervalMs,
    });
    return {
      measuredVms,
      measuredWallMs: result.wallMs,
      pollIntervalMs,
      extrapolatedVms,
      extrapolatedWallMs: (result.wallMs * extrapolatedVms) / measuredVms,
      allSucceeded: Object.values(result.statuses).every((s) => s === 'Success'),
    };
  } finally {
    await sim.close();
  }
}
