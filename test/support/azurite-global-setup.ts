import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONNECTION_STRING_VAR, STATUS_FILE_VAR, startAzurite, type AzuriteProcess } from './azurite';

declare global {
  var __azurite: { process: AzuriteProcess; statusDir: string } | undefined;
}

/**
 * Starts the test run's one Azurite without waiting for it: the workers inherit its connection string, and
 * only the suites that call azurite() wait for the status file to say "ready".
 */
export default async function globalSetup(): Promise<void> {
  const statusDir = fs.mkdtempSync(path.join(os.tmpdir(), 'azurite-status-'));
  const statusFile = path.join(statusDir, 'status');
  const azurite = await startAzurite();
  azurite.ready.then(
    () => fs.writeFileSync(statusFile, 'ready'),
    (error: Error) => fs.writeFileSync(statusFile, error.message || 'Azurite failed to start'),
  );
  process.env[CONNECTION_STRING_VAR] = azurite.connectionString;
  process.env[STATUS_FILE_VAR] = statusFile;
  globalThis.__azurite = { process: azurite, statusDir };
}
