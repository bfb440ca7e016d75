import type { RequestInfo } from '../veeam/types';
import type { DependencyTelemetry } from './telemetry';

/** One appliance request as a dependency; the path carries no query string, token or body. */
export function dependencyFromRequest(info: RequestInfo, origin: string): DependencyTelemetry {
  return {
    name: `${info.method} ${info.path}`,
    target: origin + info.path,
    resultCode: info.status ?? 'network error',
    durationMs: info.durationMs,
    success: info.ok,
    properties: { kind: info.kind },
  };
}
