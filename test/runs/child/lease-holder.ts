// A separate process contending for the run lease: prints {"runId", "won", "holderRunId"} on one line, then,
// if it won, holds the lease until a line arrives on stdin (or forever, to be killed), and releases it.
import { systemClock } from '../../../shared/clock';
import { acquireRunLease, LeaseHeldError } from '../../../shared/runs/lease';
import { createRunStorage, resolveStorageSettings, type StorageSettings } from '../../../shared/runs/storage';

async function main(): Promise<void> {
  const runId = process.argv[2];
  const settings = resolveStorageSettings({ env: process.env }) as StorageSettings;
  const storage = await createRunStorage(settings);
  try {
    const lease = await acquireRunLease({
      container: storage.container,
      setting: storage.settings.blob,
      runId,
      clock: systemClock,
      durationSeconds: 15,
    });
    process.stdout.write(`${JSON.stringify({ runId, won: true })}\n`);
    await new Promise((resolve) => process.stdin.once('data', resolve));
    await lease.release();
    process.stdout.write(`${JSON.stringify({ runId, released: true })}\n`);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof LeaseHeldError)) throw error;
    process.stdout.write(`${JSON.stringify({ runId, won: false, holderRunId: error.holderRunId })}\n`);
    process.exit(0);
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});
