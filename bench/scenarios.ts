/**
 * The benchmark's scenarios and their fleets. Session durations are drawn here, per VM, from a fixed seed and
 * handed to the simulator as explicit VM specs, so the longest session (the lower bound) is known exactly.
 */
import { createRandom } from '../dev/simulator/random';
import type { FaultRule, SimVmSpec } from '../dev/simulator/types';

/**
 * `retention`: v8.1 per restore point, keeping the newest manual snapshot and all younger than 7 days.
 * `cap64`: v8.1 per VM with CLEANUP_MAX_RUNNING_SESSIONS=64 (at most 64 deletion sessions at once).
 */
export type Mode = 'v1' | 'v8.1' | 'batch' | 'retention' | 'cap64';

export interface Scenario {
  /** e.g. "v1 · 3000 · faults". */
  name: string;
  mode: Mode;
  vmCount: number;
  faults: boolean;
}

export const MODES: readonly Mode[] = ['v1', 'v8.1', 'batch', 'retention', 'cap64'];

/** Retention scenarios: 0-6 manual snapshots per VM of mixed ages (hours, days, months), some immutable. */
export const RETENTION_POINT_MIX = { manualPerVm: { min: 0, max: 6 }, lockedRate: 0 } as const;
export const SIZES: readonly number[] = [300, 3000, 10_000];
/**
 * cap64's wall time is about N / 64 × the mean session (12 minutes at 3,000 VMs, 40 at 10,000) and it only
 * shows that the cap holds, so unless --only names it, it runs at this size and below.
 */
export const CAP64_DEFAULT_MAX_VMS = 300;
export const SEED = 20_240_601;
export const SESSION_MS = { min: 5_000, max: 20_000 } as const;
export const LATENCY_MS = 5;

/** 2 % of requests answered 503, then 1 % answered 429 with Retry-After: 1. */
export const FAULT_RULES: readonly FaultRule[] = [
  { route: '*', kind: 'status', status: 503, probability: 0.02 },
  { route: '*', kind: 'status', status: 429, retryAfter: '1', probability: 0.01 },
];

const ZBASE32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';

export function scenarioName(mode: Mode, vmCount: number, faults: boolean): string {
  return `${mode} · ${vmCount} · ${faults ? '503/429' : 'clean'}`;
}

export function buildScenarios(options: {
  modes?: readonly Mode[];
  sizes?: readonly number[];
  faults?: readonly boolean[];
  /** Larger cap64 fleets are left out (default: none). */
  cap64MaxVms?: number;
}): Scenario[] {
  const out: Scenario[] = [];
  const cap64MaxVms = options.cap64MaxVms ?? Infinity;
  for (const faults of options.faults ?? [false, true]) {
    for (const vmCount of options.sizes ?? SIZES) {
      for (const mode of options.modes ?? MODES) {
        if (mode === 'cap64' && vmCount > cap64MaxVms) continue;
        out.push({ name: scenarioName(mode, vmCount, faults), mode, vmCount, faults });
      }
    }
  }
  return out;
}

/** `count` VMs with v1-style 52-character ids and durations uniform in [min, max] ms, reproducible from the seed. */
export function buildFleet(
  count: number,
  sessionMs: { min: number; max: number } = SESSION_MS,
  seed = SEED,
): SimVmSpec[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => ({
    id: random.string(ZBASE32, 52),
    sessionDurationMs: random.int(sessionMs.min, sessionMs.max),
  }));
}

export function longestSessionMs(fleet: readonly SimVmSpec[]): number {
  return fleet.reduce((max, vm) => Math.max(max, vm.sessionDurationMs ?? 0), 0);
}
