/** Writes `text` and resolves once the stream took it, or with the error (EPIPE, ENOSPC, …) that stopped it. */
export function writeAll(
  stream: NodeJS.WritableStream,
  text: string,
): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    // The failure also comes as an 'error' event, after the callback; without a listener it would crash the
    // process with a stack trace. The listener stays: resolving twice is harmless.
    stream.on('error', resolve);
    stream.write(text, (error) => resolve(error ?? undefined));
  });
}

/** "EPIPE: the reader closed the pipe" and the like, for the error that stopped a write. */
export function describeWriteError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'EPIPE':
      return 'EPIPE: the reader closed the pipe';
    case 'ENOSPC':
      return 'ENOSPC: no space left on the device';
    default:
      return error.code ?? 'unknown error';
  }
}
