import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Timer } from '@azure/functions';
import type { SimulatorHandle } from '../../dev/simulator';
import { nightlySnapshotCleanup } from '../../functions/nightlySnapshotCleanup';
import { ConfigError, invalidateSecretCache } from '../../shared/config';
import { timeBudgetMs } from '../../shared/hosting/timeBudget';
import { settingsFor, startAppliance, vms } from '../support/engine';
import { invocation, setEnv } from '../support/functions';

const timer: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: {
    last: '2026-11-25T02:00:00Z',
    next: '2026-11-27T02:00:00Z',
    lastUpdated: '2026-11-26T02:00:00Z',
  },
};

function hostJson(functionTimeout?: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'host-')), 'host.json');
  fs.writeFileSync(file, JSON.stringify({ version: '2.0', ...(functionTimeout ? { functionTimeout } : {}) }));
  return file;
}

describe('timer time budget', () => {
  it('clamps CLEANUP_TIME_BUDGET to host.json functionTimeout, and says so', () => {
    const log: string[] = [];
    const budget = timeBudgetMs({
      configuredMs: 20 * 60_000,
      hostJsonPath: hostJson('00:05:00'),
      env: {},
      log: (m) => log.push(m),
    });
    expect(budget).toBe(5 * 60_000 - 30_000);
    expect(log).toEqual([
      'CLEANUP_TIME_BUDGET (1200 s) is longer than the function timeout (300 s, from host.json); using 300 s',
    ]);
  });

  it('lets AzureFunctionsJobHost__functionTimeout override host.json', () => {
    const log: string[] = [];
    const options = {
      hostJsonPath: hostJson('00:05:00'),
      env: { AzureFunctionsJobHost__functionTimeout: '00:02:00' },
    };
    expect(timeBudgetMs({ ...options, configuredMs: 20 * 60_000, log: (m) => log.push(m) })).toBe(90_000);
    expect(log[0]).toContain('from AzureFunctionsJobHost__functionTimeout (environment)');
    expect(timeBudgetMs(options)).toBe(90_000);
    // A budget within the timeout is kept and nothing is logged.
    expect(timeBudgetMs({ ...options, configuredMs: 60_000, log: (m) => log.push(m) })).toBe(30_000);
    expect(log).toHaveLength(1);
  });

  it.each([
    ['31 s', 31_000],
    ['32 s', 32_000],
  ])('rejects a budget of %s: too little left after the margins to submit anything', (_label, ms) => {
    let caught: unknown;
    try {
      timeBudgetMs({ configuredMs: ms, hostJsonPath: hostJson(), env: {} });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).message).toMatch(
      /^CLEANUP_TIME_BUDGET \(environment\): leaves \d s after the 30 s/,
    );
    expect(timeBudgetMs({ configuredMs: 33_000, hostJsonPath: hostJson(), env: {} })).toBe(3_000);
  });

  it('names functionTimeout and its source when the timeout itself is too short', () => {
    expect(() =>
      timeBudgetMs({ hostJsonPath: hostJson(), env: { AzureFunctionsJobHost__functionTimeout: '00:00:30' } }),
    ).toThrow(/^functionTimeout \(AzureFunctionsJobHost__functionTimeout \(environment\)\): leaves 0 s/);
  });

  describe('in the timer function', () => {
    let appliance: SimulatorHandle | undefined;
    let restoreEnv: (() => void) | undefined;
    afterEach(async () => {
      restoreEnv?.();
      await appliance?.close();
      appliance = undefined;
      invalidateSecretCache();
    });

    it('fails the invocation before contacting the appliance when the budget is too short', async () => {
      appliance = await startAppliance({ vms: vms(1) });
      restoreEnv = setEnv({ ...settingsFor(appliance, ['vm-001']), CLEANUP_TIME_BUDGET: 'PT32S' });
      const { context } = invocation('nightlySnapshotCleanup');
      await expect(nightlySnapshotCleanup(timer, context)).rejects.toThrow(/^CLEANUP_TIME_BUDGET/);
      expect(appliance.counters.requestsByRoute).toEqual({});
    });

    it('stops at the clamped budget, not at the longer CLEANUP_TIME_BUDGET', async () => {
      const fleet = [...vms(1), { id: 'vm-slow', sessionDurationMs: 120_000 }];
      appliance = await startAppliance({ vms: fleet });
      restoreEnv = setEnv({
        ...settingsFor(appliance, ['vm-001', 'vm-slow']),
        CLEANUP_TIME_BUDGET: 'PT20M',
        // 33 s less the 30 s safety margin: a 3 s run. Unclamped, the 20 min budget would outlast the test.
        AzureFunctionsJobHost__functionTimeout: '00:00:33',
      });
      const { context, logs } = invocation('nightlySnapshotCleanup');
      await nightlySnapshotCleanup(timer, context);
      const text = logs.map((l) => l.message).join('\n');
      expect(logs).toContainEqual({
        level: 'warning',
        message: expect.stringContaining('is longer than the function timeout (33 s'),
      });
      expect(text).toMatch(/1 succeeded, 0 warning, 0 failed, 1 timed out/);
    });
  });
});
