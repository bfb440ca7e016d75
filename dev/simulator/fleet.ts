/** The simulated VMs and their restore points. */
import type { Random } from './random';
import type { SimVmSpec, SimulatorOptions } from './types';

/** z-base-32, the alphabet of the appliance's 52-character ids. */
const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';
const REGIONS = ['westeurope', 'northeurope', 'eastus', 'ukwest'];
const DAY_MS = 86_400_000;

export type BackupDestination = 'ManualSnapshot' | 'Snapshot' | 'AzureBlob';

export interface RestorePoint {
  id: string;
  backupDestination: BackupDestination;
  pointInTimeMs: number;
  backupSizeBytes: number;
}

export interface SimVm {
  spec: SimVmSpec;
  name: string;
  regionName: string;
  subscriptionId: string;
  restorePoints: RestorePoint[];
}

export function createVm(spec: SimVmSpec, random: Random, nowMs: number): SimVm {
  const points: RestorePoint[] = [];
  const point = (backupDestination: BackupDestination, ageDays: number): RestorePoint => ({
    id: random.uuid(),
    backupDestination,
    pointInTimeMs: nowMs - ageDays * DAY_MS,
    backupSizeBytes: random.int(1, 64) * 1_073_741_824,
  });
  for (let i = 0; i < (spec.manualSnapshots ?? 2); i++) points.push(point('ManualSnapshot', i + 1));
  for (let i = 0; i < (spec.policySnapshots ?? 2); i++) {
    points.push(point(i % 2 === 0 ? 'Snapshot' : 'AzureBlob', i + 1));
  }
  return {
    spec: { ...spec },
    name: spec.name ?? `vm-${spec.id.slice(0, 8)}`,
    regionName: REGIONS[random.int(0, REGIONS.length - 1)],
    subscriptionId: random.uuid(),
    restorePoints: points,
  };
}

/** The fleet named by the options: explicit `vms`, else a generated one. */
export function fleetSpecs(options: SimulatorOptions, random: Random): SimVmSpec[] {
  if (options.vms) return options.vms;
  const { count, idStyle = 'v1' } = options.fleet ?? { count: 5 };
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) => ({
    id: idStyle === 'uuid' ? random.uuid() : random.string(ZBASE32, 52),
    name: `vm-${String(i + 1).padStart(width, '0')}`,
  }));
}
