/** Flush bound used when the caller gives none: short enough for a handler, long enough for one POST. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 5000;

/**
 * Waits for `flush` at most `timeoutMs`, and never rejects: a slow or unreachable ingestion endpoint must
 * not fail or hold a run. The timer is unref'd so it cannot keep a finished process alive.
 */
export async function boundedFlush(flush: () => Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  const flushed = Promise.resolve()
    .then(flush)
    .then(
      () => undefined,
      () => undefined,
    );
  try {
    await Promise.race([flushed, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
