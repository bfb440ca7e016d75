import { createAppInsightsTelemetry } from './appInsights';
import type { Telemetry } from './telemetry';

export const CONNECTION_STRING_SETTING = 'APPLICATIONINSIGHTS_CONNECTION_STRING';

/** Chooses App Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set, else the given fallback. */
export function createTelemetryFromEnv(
  env: Record<string, string | undefined>,
  fallback: () => Telemetry,
): Telemetry {
  const connectionString = env[CONNECTION_STRING_SETTING]?.trim();
  return connectionString ? createAppInsightsTelemetry({ connectionString }) : fallback();
}
