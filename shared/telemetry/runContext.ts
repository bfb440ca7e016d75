import { TELEMETRY_NAMES } from './names';
import type { DependencyTelemetry, Properties, Telemetry } from './telemetry';

export interface RunContext {
  runId: string;
  trigger: string;
  /** The invocation's operation id: the W3C trace id of InvocationContext.traceContext.traceParent. */
  operationId?: string;
  /** The invocation's span id, so worker telemetry nests under the host's request. */
  operationParentId?: string;
}

const TRACE_PARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/** Splits a W3C traceparent into the operation id (trace id) and parent id (span id); {} if malformed. */
export function operationFromTraceParent(
  traceParent: string | null | undefined,
): Pick<RunContext, 'operationId' | 'operationParentId'> {
  const match = TRACE_PARENT.exec((traceParent ?? '').trim().toLowerCase());
  return match ? { operationId: match[1], operationParentId: match[2] } : {};
}

/** Adds runId, trigger and the invocation's operation id to everything written through it. */
export function withRunContext(telemetry: Telemetry, context: RunContext): Telemetry {
  return withProperties(telemetry, {
    runId: context.runId,
    trigger: context.trigger,
    [TELEMETRY_NAMES.context.operationId]: context.operationId,
    [TELEMETRY_NAMES.context.operationParentId]: context.operationParentId,
  });
}

/** Adds `properties` (the defined ones) to every event, metric, exception and dependency written through it. */
export function withProperties(telemetry: Telemetry, properties: Properties): Telemetry {
  const fixed = definedOnly(properties);
  const merge = (own?: Properties): Properties => ({ ...own, ...fixed });
  return {
    trackEvent: (name, props, measurements) => telemetry.trackEvent(name, merge(props), measurements),
    trackMetric: (name, value, props) => telemetry.trackMetric(name, value, merge(props)),
    trackException: (error, props) => telemetry.trackException(error, merge(props)),
    trackDependency: (dependency: DependencyTelemetry) =>
      telemetry.trackDependency({ ...dependency, properties: merge(dependency.properties) }),
    flush: (timeoutMs) => telemetry.flush(timeoutMs),
  };
}

function definedOnly(properties: Properties): Properties {
  return Object.fromEntries(Object.entries(properties).filter(([, value]) => value !== undefined));
}
