import type { ChildProcess } from 'node:child_process';
import { setTimeout as realSleep } from 'node:timers/promises';
import type { Report } from '../../shared/report';
import { LEASE_BLOB } from '../../shared/runs/lease';
import { createRunStorage, resolveStorageSettings, type StorageSettings } from '../../shared/runs/storage';
import type { SimulatorHandle } from '../../dev/simulator';
import { runCli, CLI_TEST_TIMEOUT_MS } from '../cli/runCli';
import { azuriteAccount } from '../support/azurite';
import { settingsFor, startAppliance, vms } from '../support/engine';

describe('a CLI run killed mid-way (SIGKILL), then started again', () => {
  let connectionString: string;
  let appliance: SimulatorHandle | undefined;

  beforeAll(async () => {
    connectionString = await azuriteAccount();
  }, 120_000);
  afterEach(async () => {
    await appliance?.close();
    appliance = undefined;
  });

  it.each(['v8.1', 'v1'] as const)(
    '%s: the holder lease keeps others out (exit 4); once it is gone the next start resumes, no VM deleted twice',
    async (version) => {
      const fleet = vms(8, { sessionDurationMs: 1_500 });
      appliance = await startAppliance({ vms: fleet, versions: [version] });
      const ids = fleet.map((vm) => vm.id);
      const env = {
        ...settingsFor(appliance, ids, { CLEANUP_MAX_RUNNING_SESSIONS: '2', VEEAM_API_VERSION: version }),
        AzureWebJobsStorage: connectionString,
        CLEANUP_LEASE_DURATION: '60',
      };
      const handle = appliance;
      let child: ChildProcess | undefined;
      const killer = setInterval(() => {
        if (Object.keys(handle.counters.deleteCallsByVm).length >= 3) child?.kill('SIGKILL');
      }, 2);
      const killed = await runCli(['run', '--json'], env, { onSpawn: (c) => (child = c) });
      clearInterval(killer);
      expect(killed.code).toBeNull();
      const sentBefore = Object.keys(appliance.counters.deleteCallsByVm).length;
      expect(sentBefore).toBeLessThan(ids.length);

      // The dead holder's lease is still there: another start is refused and told who holds it.
      const refused = await runCli(['run', '--json'], env);
      expect(refused.code).toBe(4);
      expect(refused.stderr).toMatch(/another cleanup run \([0-9a-f-]{36}\) holds the lease/);

      // A crashed holder's lease lapses within CLEANUP_LEASE_DURATION; break it rather than wait.
      const storage = await createRunStorage(
        resolveStorageSettings({ env: { AzureWebJobsStorage: connectionString } }) as StorageSettings,
      );
      await storage.container.getBlobClient(LEASE_BLOB).getBlobLeaseClient().breakLease(0);
      await realSleep(50);

      const resumed = await runCli(['run', '--json'], env);
      const report = JSON.parse(resumed.stdout) as Report;
      expect(report.resumedFrom?.runId).toBe(report.runId);
      expect(report.results.map((r) => r.vmId).sort()).toEqual([...ids].sort());
      // No VM got a second accepted delete.
      for (const id of ids) expect(appliance.counters.deleteCallsByVm[id] ?? 0).toBeLessThanOrEqual(1);
      if (version === 'v8.1') {
        expect(resumed.code).toBe(0);
        for (const id of ids) expect(appliance.counters.deleteCallsByVm[id]).toBe(1);
      } else {
        for (const r of report.results.filter((x) => x.outcome !== 'Succeeded')) {
          expect(r).toMatchObject({ outcome: 'Failed' });
          expect(r.error).toMatch(/unknown whether the delete was accepted/);
        }
      }
    },
    CLI_TEST_TIMEOUT_MS,
  );
});
