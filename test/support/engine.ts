import { loadConfig, type CleanupConfig } from '../../shared/config';
import type { RunCleanupOptions } from '../../shared/cleanup/types';
import {
  startSimulator,
  type SimulatorHandle,
  type SimulatorOptions,
  type SimVmSpec,
} from '../../dev/simulator';

export const USER = { username: 'cleanup-svc', password: 'CANARY-PASSWORD-7f3a9c' };

/** Client timings scaled down to the simulator's tens-of-milliseconds sessions. */
export const FAST_CLIENT: NonNullable<RunCleanupOptions['client']> = {
  poll: { initialIntervalMs: 20, maxIntervalMs: 60 },
  retry: { maxRetries: 2, baseDelayMs: 5, maxDelayMs: 30, maxRetryTimeMs: 2_000 },
  requestTimeoutMs: 2_000,
  deleteCheckSettleMs: 20,
};

export function vms(count: number, spec: Partial<SimVmSpec> = {}, prefix = 'vm'): SimVmSpec[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${String(i + 1).padStart(3, '0')}`,
    sessionDurationMs: 40,
    ...spec,
  }));
}

export async function startAppliance(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  return startSimulator({ users: [USER], ...options });
}

/** The settings an admin would give, pointing at a simulator. */
export function settingsFor(
  appliance: SimulatorHandle,
  ids: readonly string[],
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    VEEAM_URL: appliance.url,
    VEEAM_USERNAME: USER.username,
    VEEAM_PASSWORD: USER.password,
    VEEAM_VM_IDS: ids.join(','),
    ...extra,
  };
}

export function configFor(
  appliance: SimulatorHandle,
  ids: readonly string[],
  extra: Record<string, string> = {},
): Promise<CleanupConfig> {
  return loadConfig({ env: settingsFor(appliance, ids, extra) });
}
