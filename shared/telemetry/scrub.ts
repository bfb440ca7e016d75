import type { DependencyTelemetry, Measurements, Properties, Telemetry } from './telemetry';

const REDACTED = '[REDACTED]';

/**
 * A last line of defence: errors reaching telemetry are typed and already secret-free, but a message that
 * quotes a header, a query string or a form body must still not carry the credential out.
 */
const PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9\-._~+/]+=*/gi, `$1 ${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, REDACTED],
  [
    /("(?:access_token|refresh_token|id_token|client_secret|password|passwd|secret|token|api_?key)"\s*:\s*")[^"]*/gi,
    `$1${REDACTED}`,
  ],
  [
    /\b((?:access_token|refresh_token|id_token|client_secret|password|passwd|pwd|secret|token|api_?key|sig)\s*[=:]\s*)[^&\s"',;]+/gi,
    `$1${REDACTED}`,
  ],
  [/(\/\/)[^/@\s:]+:[^/@\s]+@/g, `$1${REDACTED}@`],
];

export function scrubText(text: string): string {
  return PATTERNS.reduce((acc, [pattern, replacement]) => acc.replace(pattern, replacement), text);
}

/** Scrubbed copy without the undefined entries (the SDK would send them as the string "undefined"). */
export function scrubProperties(properties: Properties | undefined): Properties | undefined {
  if (!properties) return undefined;
  const out: Properties = {};
  for (const [key, value] of Object.entries(properties)) if (value !== undefined) out[key] = scrubText(value);
  return out;
}

/** A copy of the error whose message and stack went through scrubText; the original is left alone. */
export function scrubError(error: Error): Error {
  const safe = new Error(scrubText(String(error.message)));
  safe.name = error.name;
  safe.stack = error.stack === undefined ? undefined : scrubText(error.stack);
  return safe;
}

/** origin + path of a URL: no credentials, no query, no fragment. Non-URLs are cut at '?' or '#'. */
export function scrubUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.origin + parsed.pathname;
  } catch {
    return scrubText(url.split(/[?#]/, 1)[0]);
  }
}

export function scrubDependency(dependency: DependencyTelemetry): DependencyTelemetry {
  return {
    ...dependency,
    name: scrubText(dependency.name.split(/[?#]/, 1)[0]),
    target: scrubUrl(dependency.target),
    properties: scrubProperties(dependency.properties),
  };
}

/** Copy without the undefined entries. */
export function definedMeasurements(
  measurements: Measurements | undefined,
): Record<string, number> | undefined {
  if (!measurements) return undefined;
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(measurements)) if (value !== undefined) out[key] = value;
  return out;
}

/** Wraps a sink so that every string it is given is scrubbed first, and undefined entries are dropped. */
export function withScrubbing(sink: Telemetry): Telemetry {
  return {
    trackEvent: (name: string, properties?: Properties, measurements?: Measurements) =>
      sink.trackEvent(name, scrubProperties(properties), definedMeasurements(measurements)),
    trackMetric: (name: string, value: number, properties?: Properties) =>
      sink.trackMetric(name, value, scrubProperties(properties)),
    trackException: (error: Error, properties?: Properties) =>
      sink.trackException(scrubError(error), scrubProperties(properties)),
    trackDependency: (dependency: DependencyTelemetry) => sink.trackDependency(scrubDependency(dependency)),
    flush: (timeoutMs?: number) => sink.flush(timeoutMs),
  };
}
