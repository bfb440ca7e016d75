import { withScrubbing } from './scrub';
import type { Telemetry } from './telemetry';

export interface ConsoleTelemetryOptions {
  /** Where the JSON lines go. Default: process.stdout. */
  stream?: NodeJS.WritableStream;
}

/** Writes one JSON object per line: {time, type, name, ...}. For the CLI and the demo. */
export function createConsoleTelemetry(options: ConsoleTelemetryOptions = {}): Telemetry {
  const stream = options.stream ?? process.stdout;
  const write = (item: Record<string, unknown>): void => {
    stream.write(JSON.stringify({ time: new Date().toISOString(), ...item }) + '\n');
  };
  return withScrubbing({
    trackEvent: (name, properties, measurements) => write({ type: 'event', name, properties, measurements }),
    trackMetric: (name, value, properties) => write({ type: 'metric', name, value, properties }),
    trackException: (error, properties) =>
      write({ type: 'exception', name: error.name, message: error.message, properties }),
    trackDependency: (dependency) => write({ type: 'dependency', ...dependency }),
    // Lines are handed to the stream as they happen; there is nothing buffered here.
    flush: async () => undefined,
  });
}
