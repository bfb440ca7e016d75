import { HttpRequest, InvocationContext } from '@azure/functions';

export interface CapturedLog {
  level: string;
  message: string;
}

export function invocation(functionName: string): { context: InvocationContext; logs: CapturedLog[] } {
  const logs: CapturedLog[] = [];
  const context = new InvocationContext({
    functionName,
    invocationId: `test-${functionName}`,
    traceContext: { traceParent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    logHandler: (level, ...args) => logs.push({ level, message: args.map(String).join(' ') }),
  });
  return { context, logs };
}

export function postCleanup(body?: string, headers: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: 'http://localhost:7071/api/cleanup',
    headers: { 'content-type': 'application/json', ...headers },
    ...(body !== undefined ? { body: { string: body } } : {}),
  });
}

/** Sets process.env for the duration of a test; returns a restore function. */
export function setEnv(values: Record<string, string | undefined>): () => void {
  const saved: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(values)) {
    saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return () => setEnv(saved);
}
