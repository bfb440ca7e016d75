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

export function connectionStringFor(ports: { blob: number; queue: number; table: number }): string {
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${ACCOUNT}`,
    `AccountKey=${KEY}`,
    `BlobEndpoint=http://127.0.0.1:${ports.blob}/${ACCOUNT}`,
    `QueueEndpoint=http://127.0.0.1:${ports.queue}/${ACCOUNT}`,
    `TableEndpoint=http://127.0.0.1:${ports.table}/${ACCOUNT}`,
  ].join(';');
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
    '--location',
    workdir,
    ...(['blob', 'queue', 'table'] as const).flatMap((s) => [
      `--${s}Host`,
      '127.0.0.1',
      `--${s}Port`,
      String(ports[s]),
    ]),
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: workdir,
    stdio: ['ignore', 'pipe', 'pipe'],
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
 * The test run's Azurite connection string, once Azurite listens. Every storage test starts with this.
 */
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

export interface CountingProxy {
  /** The proxy's base URL; give it in place of the service endpoint (same path). */
  url: string;
  /** Requests forwarded so far, by method. */
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

/**
 * A loopback HTTP proxy in front of one Azurite service that records every request it forwards, so tests
 * count what the code under test really sent (retries, transactions and reads included).
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const requests: { method: string; path: string }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '' });
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
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
