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

const WEU = { username: 'demo-weu-operator', password: 'demo-only-password-weu' };
const CUSTOMER_B = { username: 'demo-cb-operator', password: 'demo-only-password-cb' };

/**
 * Appliance "weu" discovers its targets: 20 application servers (two of them SQL servers the policy
 * excludes) plus its own controller VM, which is never touched. Most sessions end Success, a few Warning or
 * Error, one VM has nothing to delete, one takes its time. Their manual snapshots are hours, days and months
 * old (a seeded mix, some immutable or locked), and the run keeps the newest one and everything younger than
 * 7 days.
 */
function weuFleet(): SimVmSpec[] {
  return Array.from({ length: 20 }, (_, i) => {
    const n = String(i + 1).padStart(2, '0');
    const spec: SimVmSpec = {
      id: `demo-weu-vm-${n}`,
      name: i === 4 || i === 11 ? `app-sql-${n}` : `app-server-${n}`,
      sessionDurationMs: 800 + ((i * 337) % 2200),
    };
    if (i === 3 || i === 17) spec.outcome = 'Warning';
    if (i === 9) spec.outcome = 'Error';
    if (i === 12) spec.manualSnapshots = 0;
    if (i === 15) spec.sessionDurationMs = 9_000;
    return spec;
  });
}

/** Appliance "customer-b" lists its five targets by id and keeps 30 days of manual snapshots. */
function customerBFleet(): SimVmSpec[] {
  return Array.from({ length: 5 }, (_, i) => ({
    id: `demo-cb-vm-${i + 1}`,
    name: `cb-web-${i + 1}`,
    sessionDurationMs: 600 + i * 400,
  }));
}

async function main(): Promise<void> {
  const pointMix = { manualPerVm: { min: 1, max: 5 }, immutableRate: 0.1, lockedRate: 0.08 };
  const weu = await startSimulator({ users: [WEU], vms: weuFleet(), pointMix, controller: true });
  const customerB = await startSimulator({ users: [CUSTOMER_B], vms: customerBFleet(), pointMix, seed: 2 });
  const policy = {
    defaults: { minAge: 'P7D', keepLatest: 1 },
    appliances: [
      {
        name: 'weu',
        url: weu.url,
        usernameSecret: 'demo-weu-username',
        passwordSecret: 'demo-weu-password',
        targets: { discover: { nameContains: 'app-' } },
        exclude: { names: ['app-sql-*'] },
      },
      {
        name: 'customer-b',
        url: customerB.url,
        usernameSecret: 'demo-cb-username',
        passwordSecret: 'demo-cb-password',
        targets: { vmIds: customerBFleet().map((vm) => vm.id) },
        retention: { minAge: 'P30D' },
      },
    ],
  };
  const telemetryFile = path.resolve('demo-telemetry.jsonl');
  const progress = createProgressPrinter();
  progress.info(
    `Appliance simulators: weu on ${weu.url}, customer-b on ${customerB.url}; telemetry → ${telemetryFile}`,
  );
  try {
    const started = await startRun({
      trigger: 'demo',
      env: {
        CLEANUP_POLICY: JSON.stringify(policy),
        DEMO_WEU_USERNAME: WEU.username,
        DEMO_WEU_PASSWORD: WEU.password,
        DEMO_CB_USERNAME: CUSTOMER_B.username,
        DEMO_CB_PASSWORD: CUSTOMER_B.password,
      },
      fallbackTelemetry: () => createConsoleTelemetry({ stream: createWriteStream(telemetryFile) }),
      onProgress: progress.onProgress,
      logger: { info: progress.info, warn: progress.info, error: progress.info },
    });
    progress.done();
    if (started.status !== 'completed') throw new Error(`the run did not start: ${started.status}`);
    process.stdout.write(`\n${formatSummary(started.report)}\n`);
  } finally {
    await Promise.all([weu.close(), customerB.close()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
