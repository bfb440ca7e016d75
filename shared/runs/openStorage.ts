import { createRunStorage, resolveStorageSettings, type RunStorage } from './storage';

const opened = new Map<string, Promise<RunStorage>>();

/**
 * The run store of these settings, or undefined when none is configured (CLI and local runs). Clients
 * are made (and the container, table and queue created) once per process and settings; a failed open is
 * forgotten so the next start tries again.
 */
export function openRunStorage(
  env: Readonly<Record<string, string | undefined>>,
  connectionString?: string,
): Promise<RunStorage | undefined> {
  const settings = resolveStorageSettings({
    env,
    ...(connectionString !== undefined ? { connectionString } : {}),
  });
  if (!settings) return Promise.resolve(undefined);
  const key = JSON.stringify([
    settings.endpoints,
    settings.authKind,
    settings.clientId,
    connectionString ?? null,
  ]);
  let store = opened.get(key);
  if (!store) {
    store = createRunStorage(settings);
    opened.set(key, store);
    store.catch(() => opened.delete(key));
  }
  return store;
}
