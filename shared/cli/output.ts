import type { Report } from '../report';

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

/** The top-level `results` line of a report printed with an indent of 2 (deeper keys are indented further). */
const RESULTS_LINE = '\n  "results": []';
const CHUNK_CHARS = 64 * 1024;

/**
 * Prints the report exactly as `JSON.stringify(report, null, 2)` would, but result by result in chunks of
 * ~64 KB, each written before the next is built: a 10,000-VM report is never one string of megabytes.
 * Resolves with the error that stopped the writing (EPIPE, ENOSPC, …), like writeAll.
 */
export async function writeReportJson(
  stream: NodeJS.WritableStream,
  report: Report,
): Promise<NodeJS.ErrnoException | undefined> {
  const outline = JSON.stringify({ ...report, results: [] }, null, 2);
  if (report.results.length === 0) return writeAll(stream, `${outline}\n`);
  const at = outline.indexOf(RESULTS_LINE);
  let failure: NodeJS.ErrnoException | undefined;
  // One listener for the whole report, left in place: the failure also comes as an 'error' event after the
  // write's callback, and without a listener it would crash the process with a stack trace.
  stream.on('error', (error: NodeJS.ErrnoException) => (failure ??= error));
  const write = (text: string) =>
    new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      if (failure) resolve(failure);
      else stream.write(text, (error) => resolve(error ?? failure));
    });
  let chunk = `${outline.slice(0, at)}\n  "results": [`;
  for (const [i, result] of report.results.entries()) {
    chunk += `${i > 0 ? ',' : ''}\n    ${JSON.stringify(result, null, 2).replaceAll('\n', '\n    ')}`;
    if (chunk.length < CHUNK_CHARS) continue;
    const failed = await write(chunk);
    if (failed) return failed;
    chunk = '';
  }
  return write(`${chunk}\n  ]${outline.slice(at + RESULTS_LINE.length)}\n`);
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
