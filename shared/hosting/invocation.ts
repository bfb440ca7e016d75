import type { CleanupLogger } from '../cleanup';

/** The parts of an Azure Functions InvocationContext the adapters use, typed structurally. */
export interface InvocationLike {
  traceContext?: { traceParent?: string | null };
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export function loggerFor(context: InvocationLike): CleanupLogger {
  return { info: (m) => context.log(m), warn: (m) => context.warn(m), error: (m) => context.error(m) };
}
