/**
 * The telemetry interface the engine and the handlers write to. Sinks (App Insights, console JSON lines,
 * in-memory) implement it; nothing outside shared/telemetry/ imports an SDK.
 */

export type Properties = Record<string, string | undefined>;
export type Measurements = Record<string, number | undefined>;

export interface DependencyTelemetry {
  /** e.g. "POST /api/v8.1/protectedItem/virtualMachines/{id}/deleteManualSnapshots" */
  name: string;
  /** Appliance origin + path; never a query string or credentials. */
  target: string;
  resultCode: number | string;
  durationMs: number;
  success: boolean;
  properties?: Properties;
}

export interface Telemetry {
  trackEvent(name: string, properties?: Properties, measurements?: Measurements): void;
  trackMetric(name: string, value: number, properties?: Properties): void;
  trackException(error: Error, properties?: Properties): void;
  trackDependency(dependency: DependencyTelemetry): void;
  /** Sends what is buffered. Resolves within timeoutMs even when the endpoint is down. */
  flush(timeoutMs?: number): Promise<void>;
}
