/** The simulated VMs and their restore points. */
import type { Random } from './random';
import type {
  SimBackupDestination,
  SimPointMix,
  SimRestorePointSpec,
  SimVmSpec,
  SimulatorOptions,
} from './types';

/** z-base-32, the alphabet of the appliance's 52-character ids. */
const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';
const DEFAULT_REGIONS = ['westeurope', 'northeurope', 'eastus', 'ukwest'];
const DEFAULT_RESOURCE_GROUPS = ['rg-app', 'rg-data', 'rg-legal-hold'];
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const CONTROLLER_NAME = 'vbazure-appliance';

export type BackupDestination = SimBackupDestination;

export interface RestorePoint {
  id: string;
  backupDestination: BackupDestination;
  pointInTimeMs: number;
  backupSizeBytes: number;
  immutableTillMs?: number;
  locked: boolean;
}

export interface SimVm {
  spec: SimVmSpec;
  name: string;
  regionName: string;
  subscriptionId: string;
  resourceGroupName: string;
  isController: boolean;
  isDeleted: boolean;
  restorePoints: RestorePoint[];
}

/** Where VMs without their own placement go: drawn from the seeded stream, so no pool follows another. */
export interface Placement {
  subscriptionIds: string[];
  resourceGroups: string[];
  regions: string[];
}

export function placementOf(options: SimulatorOptions, random: Random): Placement {
  return {
    subscriptionIds: options.subscriptionIds ?? [random.uuid(), random.uuid()],
    resourceGroups: options.resourceGroups ?? DEFAULT_RESOURCE_GROUPS,
    regions: options.regions ?? DEFAULT_REGIONS,
  };
}

export function createPoint(spec: SimRestorePointSpec, random: Random, nowMs: number): RestorePoint {
  return {
    id: spec.id ?? random.uuid(),
    backupDestination: spec.backupDestination ?? 'ManualSnapshot',
    pointInTimeMs: nowMs - (spec.ageMs ?? DAY_MS),
    backupSizeBytes: random.int(1, 64) * 1_073_741_824,
    immutableTillMs: spec.immutableForMs === undefined ? undefined : nowMs + spec.immutableForMs,
    locked: spec.locked === true,
  };
}

function policyPoints(count: number): SimRestorePointSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    backupDestination: i % 2 === 0 ? 'Snapshot' : 'AzureBlob',
    ageMs: (i + 1) * DAY_MS,
  }));
}

/** The seeded point mix: ages over hours, days and months, some immutable, some locked. */
function mixedPoints(mix: SimPointMix, random: Random): SimRestorePointSpec[] {
  const { min, max } = mix.manualPerVm ?? { min: 0, max: 6 };
  const { hours = 1, days = 1, months = 1 } = mix.ageWeights ?? {};
  const immutable = mix.immutableRate ?? 0.1;
  const expired = mix.expiredImmutableRate ?? 0.05;
  const locked = mix.lockedRate ?? 0.05;
  const drawAge = (): number => {
    const bucket = random.next() * (hours + days + months);
    if (bucket < hours) return random.int(1, 23) * HOUR_MS;
    if (bucket < hours + days) return random.int(1, 29) * DAY_MS;
    return random.int(1, 12) * 30 * DAY_MS;
  };
  const manual = Array.from({ length: random.int(min, max) }, (): SimRestorePointSpec => {
    const ageMs = drawAge() - random.int(0, 3_599_999);
    const draw = random.next();
    const point: SimRestorePointSpec = { backupDestination: 'ManualSnapshot', ageMs };
    if (draw < immutable) point.immutableForMs = random.int(1, 90) * DAY_MS;
    else if (draw < immutable + expired) point.immutableForMs = -random.int(1, 30) * DAY_MS;
    if (random.next() < locked) point.locked = true;
    return point;
  });
  return [...manual, ...policyPoints(mix.policyPerVm ?? 2)];
}

function pointSpecs(spec: SimVmSpec, mix: SimPointMix | undefined, random: Random): SimRestorePointSpec[] {
  if (spec.restorePoints) return spec.restorePoints;
  if (mix && spec.manualSnapshots === undefined && spec.policySnapshots === undefined) {
    return mixedPoints(mix, random);
  }
  const manual = Array.from({ length: spec.manualSnapshots ?? 2 }, (_, i) => ({ ageMs: (i + 1) * DAY_MS }));
  return [...manual, ...policyPoints(spec.policySnapshots ?? 2)];
}

export interface VmContext {
  random: Random;
  nowMs: number;
  placement: Placement;
  mix?: SimPointMix;
}

export function createVm(spec: SimVmSpec, { random, nowMs, placement, mix }: VmContext): SimVm {
  const points = pointSpecs(spec, mix, random).map((p) => createPoint(p, random, nowMs));
  const pick = <T>(list: readonly T[]): T => list[random.int(0, list.length - 1)];
  return {
    spec: { ...spec },
    name: spec.name ?? `vm-${spec.id.slice(0, 8)}`,
    regionName: spec.regionName ?? pick(placement.regions),
    subscriptionId: spec.subscriptionId ?? pick(placement.subscriptionIds),
    resourceGroupName: spec.resourceGroupName ?? pick(placement.resourceGroups),
    isController: spec.isController === true,
    isDeleted: spec.isDeleted === true,
    restorePoints: points,
  };
}

const vmId = (random: Random, idStyle: 'v1' | 'uuid'): string =>
  idStyle === 'uuid' ? random.uuid() : random.string(ZBASE32, 52);

/** The fleet named by the options: the controller (if any), then explicit `vms`, else a generated one. */
export function fleetSpecs(options: SimulatorOptions, random: Random): SimVmSpec[] {
  const { count, idStyle = 'v1', namePrefixes = ['vm-'], deletedRate = 0 } = options.fleet ?? { count: 5 };
  const fleet: SimVmSpec[] = options.vms
    ? [...options.vms]
    : Array.from({ length: count }, (_, i) => {
        const spec: SimVmSpec = {
          id: vmId(random, idStyle),
          name: `${namePrefixes[i % namePrefixes.length]}${String(i + 1).padStart(String(count).length, '0')}`,
        };
        if (deletedRate > 0 && random.next() < deletedRate) spec.isDeleted = true;
        return spec;
      });
  if (!options.controller) return fleet;
  const overrides = options.controller === true ? {} : options.controller;
  const controller: SimVmSpec = {
    id: vmId(random, idStyle),
    name: CONTROLLER_NAME,
    manualSnapshots: 1,
    policySnapshots: 0,
    ...overrides,
    isController: true,
  };
  return [controller, ...fleet];
}
