import { closeSync, openSync, writeSync } from 'node:fs';
import { withScrubbing } from './scrub';
import type { Telemetry } from './telemetry';

export interface ConsoleTelemetryOptions {
  /** Where the JSON lines go. Default: process.stdout. */
  stream?: NodeJS.WritableStream;
}

/** One JSON object per line: {time, type, name, ...}, handed to `writeLine` as it happens. */
function jsonLinesTelemetry(writeLine: (line: string) => void): Telemetry {
  const write = (item: Record<string, unknown>): void => {
    writeLine(JSON.stringify({ time: new Date().toISOString(), ...item }) + '\n');
  };
  return withScrubbing({
    trackEvent: (name, properties, measurements) => write({ type: 'event', name, properties, measurements }),
    trackMetric: (name, value, properties) => write({ type: 'metric', name, value, properties }),
    trackException: (error, properties) =>
      write({ type: 'exception', name: error.name, message: error.message, properties }),
    trackDependency: (dependency) => write({ type: 'dependency', ...dependency }),
    // Lines are handed over as they happen; there is nothing buffered here.
    flush: async () => undefined,
  });
}

/** Writes one JSON object per line: {time, type, name, ...}. For the CLI and the demo. */
export function createConsoleTelemetry(options: ConsoleTelemetryOptions = {}): Telemetry {
  const stream = options.stream ?? process.stdout;
  return jsonLinesTelemetry((line) => stream.write(line));
}

export interface FileTelemetryOptions {
  /** The file the JSON lines are appended to; created if missing. */
  path: string;
  /** Told once when a write fails (disk full, …); telemetry then stops, the run goes on. */
  onError?: (error: NodeJS.ErrnoException) => void;
}

/**
 * JSON lines appended to a file, written synchronously so nothing is lost when the process exits right
 * after the run. Opening the file throws (so a CLI can refuse a bad path before the run); a failed write
 * never reaches the engine.
 */
export function createFileTelemetry(options: FileTelemetryOptions): Telemetry & { close(): void } {
  let fd: number | undefined = openSync(options.path, 'a');
  const telemetry = jsonLinesTelemetry((line) => {
    if (fd === undefined) return;
    try {
      writeSync(fd, line);
    } catch (error) {
      closeSync(fd);
      fd = undefined;
      options.onError?.(error as NodeJS.ErrnoException);
    }
  });
  return {
    ...telemetry,
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
