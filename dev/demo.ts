/**
 * `npm start`: a real cleanup against the embedded appliance simulator, through the same entry point the
 * timer function uses. No Azure, no Key Vault, nothing beyond loopback.
 */
import { startRun } from '../shared/cleanup';
import { createProgressPrinter } from '../shared/cli/progress';
import { formatSummary } from '../shared/cli/summary';
import { createConsoleTelemetry } from '../shared/telemetry';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { startSimulator, type SimVmSpec } from './simulator';

const USERNAME = 'demo-operator';
const PASSWORD = 'demo-only-password';

/**
 * 25 VMs: most end Success, a few Warning or Error, one has nothing to delete, one takes its time. Their
 * manual snapshots are hours, days and months old (a seeded mix, some immutable or locked), and the run keeps
 * the newest one and everything younger than 7 days.
 */
function demoFleet(): SimVmSpec[] {
  return Array.from({ length: 25 }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    const spec: SimVmSpec = {
      id: `demo-vm-${n}`,
      name: `app-server-${n}`,
      sessionDurationMs: 800 + ((i * 337) % 2200),
    };
    if (i === 3 || i === 17) spec.outcome = 'Warning';
    if (i === 9) spec.outcome = 'Error';
    if (i === 12) spec.manualSnapshots = 0;
    if (i === 21) spec.sessionDurationMs = 9_000;
    return spec;
  });
}

async function main(): Promise<void> {
  const fleet = demoFleet();
  const simulator = await startSimulator({
    users: [{ username: USERNAME, password: PASSWORD }],
    vms: fleet,
    pointMix: { manualPerVm: { min: 1, max: 5 }, immutableRate: 0.1, lockedRate: 0.08 },
  });
  const telemetryFile = path.resolve('demo-telemetry.jsonl');
  const progress = createProgressPrinter();
  progress.info(
    `Appliance simulator on ${simulator.url} with ${fleet.length} VMs; telemetry → ${telemetryFile}`,
  );
  try {
    const started = await startRun({
      trigger: 'demo',
      env: {
        VEEAM_URL: simulator.url,
        VEEAM_USERNAME: USERNAME,
        VEEAM_PASSWORD: PASSWORD,
        VEEAM_VM_IDS: fleet.map((vm) => vm.id).join(','),
        VEEAM_API_VERSION: 'auto',
        CLEANUP_MIN_AGE: 'P7D',
        CLEANUP_KEEP_LATEST: '1',
      },
      fallbackTelemetry: () => createConsoleTelemetry({ stream: createWriteStream(telemetryFile) }),
      onProgress: progress.onProgress,
      logger: { info: progress.info, warn: progress.info, error: progress.info },
    });
    progress.done();
    if (started.status !== 'completed') throw new Error(`the run did not start: ${started.status}`);
    process.stdout.write(`\n${formatSummary(started.report)}\n`);
  } finally {
    await simulator.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
