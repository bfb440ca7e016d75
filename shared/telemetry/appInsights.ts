import { randomBytes } from 'node:crypto';
import type { TelemetryClient } from 'applicationinsights';
import type * as OtelApi from '@opentelemetry/api';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import type { TokenCredential } from '@azure/identity';
import { ConfigError } from '../errors';
import { boundedFlush, DEFAULT_FLUSH_TIMEOUT_MS } from './boundedFlush';
import { TELEMETRY_NAMES } from './names';
import { withScrubbing } from './scrub';
import type { DependencyTelemetry, Properties, Telemetry } from './telemetry';

export interface AppInsightsTelemetryOptions {
  /** APPLICATIONINSIGHTS_CONNECTION_STRING of the Function App. */
  connectionString: string;
  /** Upper bound for flush() and for each ingestion request, in ms. Default: 5000. */
  flushTimeoutMs?: number;
  /** Send with an Entra ID token of the managed identity (required when the resource disables local auth). */
  entraAuthentication?: EntraAuthentication;
}

/** APPLICATIONINSIGHTS_AUTHENTICATION_STRING, parsed: Authorization=AAD with an optional ClientId. */
export interface EntraAuthentication {
  /** Client id of the user-assigned identity; the system-assigned one when absent. */
  clientId?: string;
}

interface Sdk {
  client: TelemetryClient;
  otel: typeof OtelApi;
}

// The SDK keeps process-wide state (exporters, OneSettings worker, statsbeat), so one client per
// connection string and identity per process, created on first use. The first caller's flushTimeoutMs also
// becomes the per-request ingestion timeout of that client.
const clients = new Map<string, Sdk>();

/**
 * App Insights through applicationinsights 3.x. The SDK is required on first use, not on import, so a cold
 * start that never writes telemetry does not pay ~1 s to load it.
 */
export function createAppInsightsTelemetry(options: AppInsightsTelemetryOptions): Telemetry {
  // Checked here, without the SDK: the exporter would otherwise fail later, inside a run.
  if (!INSTRUMENTATION_KEY.test(options.connectionString)) {
    throw new ConfigError(
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'must contain InstrumentationKey=<GUID> (copy it from the Application Insights overview page)',
    );
  }
  const flushTimeoutMs = options.flushTimeoutMs ?? DEFAULT_FLUSH_TIMEOUT_MS;
  let sdk: Sdk | undefined;
  const get = (): Sdk =>
    (sdk ??= sdkFor(options.connectionString, flushTimeoutMs, options.entraAuthentication));

  const inOperation = (properties: Properties | undefined, track: (rest: Properties) => void): void => {
    // Telemetry must never fail a run: an SDK that cannot start loses this item, not the cleanup.
    try {
      const { otel } = get();
      const { operation, rest } = splitOperation(properties);
      if (!operation) return track(rest);
      // Forced SAMPLED: a host traceparent flagged "not sampled" would otherwise drop our dependencies.
      const spanContext = { ...operation, traceFlags: otel.TraceFlags.SAMPLED, isRemote: true };
      otel.context.with(otel.trace.setSpanContext(otel.ROOT_CONTEXT, spanContext), () => track(rest));
    } catch {
      return;
    }
  };

  return withScrubbing({
    trackEvent: (name, properties, measurements) =>
      inOperation(properties, (rest) =>
        get().client.trackEvent({
          name,
          properties: rest,
          measurements: measurements as Record<string, number> | undefined,
        }),
      ),
    trackMetric: (name, value, properties) =>
      inOperation(properties, (rest) => get().client.trackMetric({ name, value, properties: rest })),
    trackException: (exception, properties) =>
      inOperation(properties, (rest) => get().client.trackException({ exception, properties: rest })),
    trackDependency: (dependency) =>
      inOperation(dependency.properties, (rest) =>
        get().client.trackDependency(toSdkDependency(dependency, rest)),
      ),
    flush: (timeoutMs = flushTimeoutMs) =>
      sdk ? boundedFlush(() => sdk!.client.flush(), timeoutMs) : Promise.resolve(),
  });
}

function sdkFor(
  connectionString: string,
  requestTimeoutMs: number,
  entraAuthentication: EntraAuthentication | undefined,
): Sdk {
  const key = JSON.stringify([connectionString, entraAuthentication ?? null]);
  const existing = clients.get(key);
  if (existing) return existing;
  const { TelemetryClient } = require('applicationinsights') as typeof import('applicationinsights');
  const otel = require('@opentelemetry/api') as typeof OtelApi;
  const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as {
    AsyncLocalStorageContextManager: new () => OtelApi.ContextManager;
  };

  // Isolated providers instead of useAzureMonitor(): no HTTP/DB auto-instrumentation (Veeam calls are
  // tracked explicitly, so nothing is counted twice and the exporter never traces its own POSTs), no live
  // metrics, no performance counters, no console capture, and no global patching of the worker.
  const client = new TelemetryClient(connectionString, { useGlobalProviders: false });
  client.config.azureMonitorOpenTelemetryOptions = {
    azureMonitorExporterOptions: {
      connectionString,
      // The exporter already keeps a failed batch on disk and retries it on its own timer; the pipeline's
      // extra retries (~6 s on a refused connection) would only hold a finished CLI process open.
      retryOptions: { maxRetries: 0 },
      // A request that is accepted but never answered would otherwise keep the process alive forever.
      additionalPolicies: [{ policy: ingestionTimeoutPolicy(requestTimeoutMs), position: 'perCall' }],
      // Without it the SDK sends with the instrumentation key only, which a resource with local auth
      // disabled rejects: the host's own APPLICATIONINSIGHTS_AUTHENTICATION_STRING does not reach this client.
      credential: entraAuthentication ? managedIdentityCredential(entraAuthentication) : undefined,
    },
  };
  client.initialize();
  // Log records and spans take ai.operation.id from the active OTel context; without a context manager
  // there is no active context. If the host already registered one, that one is used (this returns false).
  otel.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

  const sdk = { client, otel };
  clients.set(key, sdk);
  return sdk;
}

function managedIdentityCredential({ clientId }: EntraAuthentication): TokenCredential {
  // Loaded with the SDK, on first use, like @azure/identity in the Key Vault path.
  const { ManagedIdentityCredential } = require('@azure/identity') as typeof import('@azure/identity');
  // Bounded like the vault's: an identity endpoint that is down must not hold a flush for long.
  const retryOptions = { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 1_000 };
  return clientId
    ? new ManagedIdentityCredential({ clientId, retryOptions })
    : new ManagedIdentityCredential({ retryOptions });
}

function ingestionTimeoutPolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: 'snapshotCleanupIngestionTimeout',
    sendRequest: (request, next) => {
      request.timeout = timeoutMs;
      return next(request);
    },
  };
}

const INSTRUMENTATION_KEY =
  /(^|;)\s*InstrumentationKey=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\s*(;|$)/i;
const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/;
const SPAN_ID = /^(?!0{16})[0-9a-f]{16}$/;

/** Takes the reserved operation keys out of the properties; a valid trace id becomes the span context. */
function splitOperation(properties: Properties | undefined): {
  operation?: { traceId: string; spanId: string };
  rest: Properties;
} {
  const { operationId: idKey, operationParentId: parentKey } = TELEMETRY_NAMES.context;
  const { [idKey]: operationId, [parentKey]: parentId, ...rest } = properties ?? {};
  if (operationId === undefined || !TRACE_ID.test(operationId)) {
    // Not a W3C trace id: keep it as a property so the run can still be joined by hand.
    return { rest: operationId === undefined ? rest : { ...rest, [idKey]: operationId } };
  }
  const spanId = parentId !== undefined && SPAN_ID.test(parentId) ? parentId : randomBytes(8).toString('hex');
  return { operation: { traceId: operationId, spanId }, rest };
}

const HTTP_METHOD = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s/;

/**
 * Sets the OTel HTTP attributes by hand: http.method makes the exporter write type "HTTP", resultCode and
 * target, and leaving http.url out keeps our templated name ("POST …/{id}/…") instead of the real path.
 */
function toSdkDependency(dependency: DependencyTelemetry, properties: Properties) {
  const method = HTTP_METHOD.exec(dependency.name)?.[1];
  return {
    name: dependency.name,
    target: dependency.target,
    duration: dependency.durationMs,
    resultCode: dependency.resultCode,
    success: dependency.success,
    data: '',
    properties: {
      ...properties,
      ...(method ? { 'http.method': method, 'http.status_code': String(dependency.resultCode) } : {}),
    },
  };
}
