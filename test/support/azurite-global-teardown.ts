import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const azurite = globalThis.__azurite;
  if (!azurite) return;
  await azurite.process.stop();
  fs.rmSync(azurite.statusDir, { recursive: true, force: true });
  globalThis.__azurite = undefined;
}
