import { withScrubbing } from './scrub';
import type { DependencyTelemetry, Measurements, Properties, Telemetry } from './telemetry';

export interface RecordedEvent {
  name: string;
  properties: Properties;
  measurements: Measurements;
}
export interface RecordedMetric {
  name: string;
  value: number;
  properties: Properties;
}
export interface RecordedException {
  error: Error;
  properties: Properties;
}

export interface MemoryTelemetry extends Telemetry {
  readonly events: RecordedEvent[];
  readonly metrics: RecordedMetric[];
  readonly exceptions: RecordedException[];
  readonly dependencies: DependencyTelemetry[];
  /** How many times flush was called. */
  readonly flushes: number;
}

/** Keeps everything in arrays, after the same scrubbing the real sinks apply. For tests. */
export function createMemoryTelemetry(): MemoryTelemetry {
  const events: RecordedEvent[] = [];
  const metrics: RecordedMetric[] = [];
  const exceptions: RecordedException[] = [];
  const dependencies: DependencyTelemetry[] = [];
  let flushes = 0;
  const scrubbed = withScrubbing({
    trackEvent: (name, properties = {}, measurements = {}) => events.push({ name, properties, measurements }),
    trackMetric: (name, value, properties = {}) => metrics.push({ name, value, properties }),
    trackException: (error, properties = {}) => exceptions.push({ error, properties }),
    trackDependency: (dependency) => dependencies.push(dependency),
    flush: async () => {
      flushes += 1;
    },
  });
  return {
    ...scrubbed,
    events,
    metrics,
    exceptions,
    dependencies,
    get flushes() {
      return flushes;
    },
  };
}
