import type { Timer } from '@azure/functions';
import type { SimulatorHandle } from '../../dev/simulator';
import { nightlySnapshotCleanup } from '../../functions/nightlySnapshotCleanup';
import { invalidateSecretCache } from '../../shared/config';
import { settingsFor, startAppliance, vms } from '../support/engine';
import { invocation, setEnv } from '../support/functions';

const timer: Timer = {
  isPastDue: true,
  schedule: { adjustForDST: false },
  scheduleStatus: {
    last: '2026-11-25T02:00:00Z',
    next: '2026-11-27T02:00:00Z',
    lastUpdated: '2026-11-26T02:00:00Z',
  },
};

describe('nightlySnapshotCleanup (timer)', () => {
  let appliance: SimulatorHandle | undefined;
  let restoreEnv: (() => void) | undefined;
  afterEach(async () => {
    restoreEnv?.();
    await appliance?.close();
    appliance = undefined;
    invalidateSecretCache();
  });

  it('runs every target end to end and stops waiting when the time budget runs out', async () => {
    const fleet = [...vms(3), { id: 'vm-slow', sessionDurationMs: 120_000 }];
    appliance = await startAppliance({ vms: fleet });
    // 33 s of function time less the 30 s safety margin leaves a 3 s budget.
    restoreEnv = setEnv({
      ...settingsFor(
        appliance,
        fleet.map((vm) => vm.id),
      ),
      CLEANUP_TIME_BUDGET: 'PT33S',
    });
    const { context, logs } = invocation('nightlySnapshotCleanup');

    await nightlySnapshotCleanup(timer, context);

    const text = logs.map((l) => l.message).join('\n');
    expect(text).toContain('isPastDue=true');
    expect(text).toMatch(/3 succeeded, 0 warning, 0 failed, 1 timed out, 0 skipped, 0 invalid/);
    for (const vm of fleet) expect(appliance.counters.deleteCallsByVm[vm.id]).toBe(1);
  });

  it('fails the invocation, so the host retries, only when nothing was attempted', async () => {
    appliance = await startAppliance({ vms: vms(2) });
    restoreEnv = setEnv({
      ...settingsFor(appliance, ['vm-001', 'vm-002']),
      VEEAM_PASSWORD: 'wrong-password',
    });
    const { context } = invocation('nightlySnapshotCleanup');
    await expect(nightlySnapshotCleanup(timer, context)).rejects.toThrow(/Nothing was deleted/);
    expect(appliance.counters.deleteCallsByVm).toEqual({});
  });

  it('fails the invocation on a configuration error, naming the setting', async () => {
    restoreEnv = setEnv({
      VEEAM_URL: undefined,
      VEEAM_USERNAME: 'u',
      VEEAM_PASSWORD: 'p',
      VEEAM_VM_IDS: 'vm-1',
    });
    const { context } = invocation('nightlySnapshotCleanup');
    await expect(nightlySnapshotCleanup(timer, context)).rejects.toThrow(/VEEAM_URL/);
  });
});
