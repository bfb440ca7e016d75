/** Shared set-up for the client tests against the appliance simulator. */
import { startSimulator, type SimulatorHandle, type SimulatorOptions } from '../../dev/simulator';
import { createVeeamClient } from '../../shared/veeam/client';
import { createFakeClock, type FakeClock } from '../support/fakeClock';
import type { RequestInfo, VeeamClient, VeeamClientOptions } from '../../shared/veeam/types';

export const PASSWORD = 'CANARY-PASSWORD-7f3a9c';
export const USERNAME = 'cleanup-svc';

export interface Harness {
  sim: SimulatorHandle;
  client: VeeamClient;
  requests: RequestInfo[];
  warnings: string[];
}

const open: Array<{ sim: SimulatorHandle; client?: VeeamClient }> = [];

export async function simulator(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const sim = await startSimulator({ users: [{ username: USERNAME, password: PASSWORD }], ...options });
  open.push({ sim });
  return sim;
}

/** A client with test-sized retry and poll timings; `overrides` wins. */
export function clientFor(
  sim: SimulatorHandle,
  overrides: Partial<VeeamClientOptions> = {},
): Harness['client'] & {
  requests: RequestInfo[];
  warnings: string[];
} {
  const requests: RequestInfo[] = [];
  const warnings: string[] = [];
  const client = createVeeamClient({
    baseUrl: sim.url,
    username: USERNAME,
    password: PASSWORD,
    retry: { baseDelayMs: 5, maxDelayMs: 200, maxRetries: 4, maxRetryTimeMs: 5000 },
    poll: { initialIntervalMs: 20, maxIntervalMs: 50 },
    requestTimeoutMs: 2000,
    deleteCheckSettleMs: 20,
    onRequest: (info) => requests.push(info),
    onWarning: (message) => warnings.push(message),
    ...overrides,
  });
  open.push({ sim, client });
  return Object.assign(client, { requests, warnings });
}

export async function closeAll(): Promise<void> {
  for (const { sim, client } of open.splice(0)) {
    client?.close();
    await sim.close().catch(() => undefined);
  }
}

/** Every string a secret could leak through. */
export function leakSurface(...texts: unknown[]): string {
  return texts
    .map((t) =>
      t instanceof Error
        ? `${t.message} ${String((t as { cause?: unknown }).cause ?? '')}`
        : JSON.stringify(t),
    )
    .join('\n');
}

/** Waits (on real time: the simulator runs on it) until `condition` holds, for events the test cannot await. */
export async function until(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A fake clock that also records every sleep asked of it (retry waits, the delete guard's settle wait). */
export function recordingClock(startMs = Date.now()): FakeClock & { sleeps: number[] } {
  const fake = createFakeClock(startMs);
  const sleep = fake.sleep.bind(fake);
  const sleeps: number[] = [];
  return Object.assign(fake, {
    sleeps,
    sleep: (ms: number, signal?: AbortSignal) => {
      sleeps.push(ms);
      return sleep(ms, signal);
    },
  });
}
