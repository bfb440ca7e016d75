import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** Set by the Jest global setup for every test: the connection string of the run's one Azurite. */
export const CONNECTION_STRING_VAR = 'AZURITE_CONNECTION_STRING';
/** A file the global setup writes once Azurite listens ("ready") or has died (its stderr). */
export const STATUS_FILE_VAR = 'AZURITE_STATUS_FILE';

const AZURITE = require.resolve('azurite/dist/src/azurite.js');
const ACCOUNT = 'devstoreaccount1';
/** Azurite's public, well-known development key. */
const KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const READY_TIMEOUT_MS = 120_000;
/** Accounts besides devstoreaccount1, one per storage suite, so suites running in parallel don't share rows. */
const TEST_ACCOUNTS = 24;
const testAccount = (n: number) => ({
  name: `testaccount${String(n).padStart(2, '0')}`,
  key: Buffer.from(`azurite-test-account-${n}-key-for-loopback-only`).toString('base64'),
});

export interface AzuriteProcess {
  connectionString: string;
  /** Resolves once all three services listen; rejects with Azurite's output if it exits first. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function connectionStringFor(
  ports: { blob: number; queue: number; table: number },
  account = { name: ACCOUNT, key: KEY },
): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${account.name}`,
    `AccountKey=${account.key}`,
    `BlobEndpoint=http://127.0.0.1:${ports.blob}/${account.name}`,
    `QueueEndpoint=http://127.0.0.1:${ports.queue}/${account.name}`,
    `TableEndpoint=http://127.0.0.1:${ports.table}/${account.name}`,
  ].join(';');
}

/** The connection string of another account on the same Azurite. */
function withAccount(connectionString: string, account: { name: string; key: string }): string {
  return connectionString
    .replaceAll(ACCOUNT, account.name)
    .replace(`AccountKey=${KEY}`, `AccountKey=${account.key}`);
}

/**
 * Starts a real Azurite (the pinned devDependency) on loopback ports picked here, in memory, with no
 * telemetry. Returns at once: `ready` tells when it listens, so suites that never touch storage don't wait.
 */
export async function startAzurite(): Promise<AzuriteProcess> {
  const ports = { blob: await freePort(), queue: await freePort(), table: await freePort() };
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'azurite-'));
  const args = [
    AZURITE,
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--inMemoryPersistence',
    '--silent',
    ...(['blob', 'queue', 'table'] as const).flatMap((s) => [
      `--${s}Host`,
      '127.0.0.1',
      `--${s}Port`,
      String(ports[s]),
    ]),
  ];
  const accounts = [
    { name: ACCOUNT, key: KEY },
    ...Array.from({ length: TEST_ACCOUNTS }, (_, i) => testAccount(i + 1)),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: workdir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AZURITE_ACCOUNTS: accounts.map((a) => `${a.name}:${a.key}`).join(';') },
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if ((output.match(/successfully listening/g) ?? []).length >= 3) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`Azurite exited (${String(code)}) before listening:\n${output}`)),
    );
  });
  ready.catch(() => undefined);
  return {
    connectionString: connectionStringFor(ports),
    ready,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      fs.rmSync(workdir, { recursive: true, force: true });
    },
  };
}

/**
 * A connection string to an account of the test run's Azurite that no other suite uses, once Azurite
 * listens. Call it once per suite (in beforeAll); every storage test starts with this.
 */
export async function azuriteAccount(): Promise<string> {
  const connectionString = await azurite();
  const statusDir = path.dirname(process.env[STATUS_FILE_VAR] as string);
  for (let n = 1; n <= TEST_ACCOUNTS; n++) {
    try {
      fs.closeSync(fs.openSync(path.join(statusDir, `claimed-${n}`), 'wx'));
      return withAccount(connectionString, testAccount(n));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`all ${TEST_ACCOUNTS} Azurite test accounts are taken: raise TEST_ACCOUNTS`);
}

/** The test run's Azurite connection string (account devstoreaccount1, shared), once Azurite listens. */
export async function azurite(): Promise<string> {
  const connectionString = process.env[CONNECTION_STRING_VAR];
  const statusFile = process.env[STATUS_FILE_VAR];
  if (!connectionString || !statusFile) {
    throw new Error(
      `${CONNECTION_STRING_VAR} is not set: run the tests through jest (its global setup starts Azurite)`,
    );
  }
  for (const started = Date.now(); Date.now() - started < READY_TIMEOUT_MS; await delay(100)) {
    if (!fs.existsSync(statusFile)) continue;
    const status = fs.readFileSync(statusFile, 'utf8');
    if (status === 'ready') return connectionString;
    if (status !== '') throw new Error(status);
  }
  throw new Error(`Azurite did not start within ${READY_TIMEOUT_MS / 1000} s`);
}

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

export interface CountingProxy {
  /** The proxy's base URL; give it in place of the service endpoint (same path). */
  url: string;
  /** Requests forwarded (or, while down, refused) so far. */
  requests: ProxiedRequest[];
  /** While true, every request's connection is cut: storage "goes down". */
  down: boolean;
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of one Azurite service that records every request it forwards, so tests
 * count what the code under test really sent (retries, transactions and reads included).
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const proxy: CountingProxy = { url: '', requests: [], down: false, close: async () => undefined };
  const server = http.createServer((req, res) => {
    proxy.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    if (proxy.down) {
      res.destroy();
      return;
    }
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  proxy.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return proxy;
}

/** A connection string whose `service` endpoint goes through `proxyUrl` (the account path kept). */
export function throughProxy(
  connectionString: string,
  service: 'Blob' | 'Queue' | 'Table',
  proxyUrl: string,
): string {
  return connectionString.replace(
    new RegExp(`${service}Endpoint=http://127\\.0\\.0\\.1:\\d+`),
    `${service}Endpoint=${proxyUrl}`,
  );
}

/** The endpoint of `service` in an Azurite connection string. */
export function endpointOf(connectionString: string, service: 'Blob' | 'Queue' | 'Table'): string {
  const match = new RegExp(`${service}Endpoint=([^;]+)`).exec(connectionString);
  if (!match) throw new Error(`no ${service}Endpoint`);
  return match[1];
}
