/** Key Vault guidance: cache secrets in memory and re-read only when they expire or stop working. */
const DEFAULT_TTL_MS = 10 * 60_000;

interface Entry {
  expiresAtMs: number;
  value: Promise<string | undefined>;
}

/**
 * Per-process cache of secret reads keyed by vault URL and secret name. It holds the promise, so parallel
 * loads share one request; a read that fails or finds nothing is not kept, so a fix in the vault is seen
 * on the next load.
 */
export class SecretCache {
  private readonly entries = new Map<string, Entry>();

  /** Returns the cached value of `secretName` in `vaultUrl`, or reads it with `read` and keeps it for `ttlMs`. */
  get(
    vaultUrl: string,
    secretName: string,
    read: () => Promise<string | undefined>,
    ttlMs = DEFAULT_TTL_MS,
  ): Promise<string | undefined> {
    const key = `${vaultUrl}\n${secretName}`;
    const cached = this.entries.get(key);
    if (cached && cached.expiresAtMs > Date.now()) return cached.value;
    const entry: Entry = { expiresAtMs: Date.now() + ttlMs, value: read() };
    this.entries.set(key, entry);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.value.then((value) => value === undefined && forget(), forget);
    return entry.value;
  }

  clear(): void {
    this.entries.clear();
  }
}

export const secretCache = new SecretCache();

/** Drops every cached secret; the engine calls this when the appliance rejects the credentials (rotation). */
export function invalidateSecretCache(): void {
  secretCache.clear();
}
