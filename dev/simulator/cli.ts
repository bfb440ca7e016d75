/**
 * Command-line entry of the simulator:
 *   node dist/dev/simulator/cli.js --port 8443 --vms 25 --seed 1 [--tls-cert f --tls-key f] [--latency-ms 5]
 * Prints its URL and the demo credentials, and stops on SIGINT/SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../shared/errors';
import { DEFAULT_USER, startSimulator } from './index';
import type { ApiGeneration, SimulatorHandle, SimulatorOptions } from './types';

const USAGE = `usage: simulator [--port 8443] [--host 127.0.0.1] [--vms 25] [--id-style v1|uuid] [--seed 1]
                 [--session-ms 200 | --session-ms 5000-20000] [--warning-rate 0] [--error-rate 0]
                 [--latency-ms 0] [--versions v1,v8.1] [--tls-cert cert.pem --tls-key key.pem]`;

function integer(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    throw new ConfigError(`--${name}`, `must be an integer >= ${min}`);
  return Number(raw);
}

function rate(name: string, raw: string | undefined): number {
  if (raw === undefined) return 0;
  const value = Number(raw);
  if (raw.trim() === '' || !(value >= 0 && value <= 1))
    throw new ConfigError(`--${name}`, 'must be between 0 and 1');
  return value;
}

function sessionDuration(raw: string | undefined): SimulatorOptions['sessionDurationMs'] {
  if (raw === undefined) return undefined;
  const range = /^(\d+)-(\d+)$/.exec(raw);
  if (range && Number(range[1]) <= Number(range[2])) return { min: Number(range[1]), max: Number(range[2]) };
  return integer('session-ms', raw, 0);
}

function versions(raw: string | undefined): ApiGeneration[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.split(',').map((v) => v.trim());
  if (list.length === 0 || !list.every((v): v is ApiGeneration => v === 'v1' || v === 'v8.1')) {
    throw new ConfigError('--versions', 'must list v1 and/or v8.1, comma-separated');
  }
  return list;
}

function readPem(option: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new ConfigError(`--${option}`, 'cannot read the PEM file it names');
  }
}

/** Turns command-line arguments into simulator options; throws ConfigError naming the bad option. */
export function parseCliArgs(argv: string[]): SimulatorOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      vms: { type: 'string' },
      'id-style': { type: 'string' },
      seed: { type: 'string' },
      'session-ms': { type: 'string' },
      'warning-rate': { type: 'string' },
      'error-rate': { type: 'string' },
      'latency-ms': { type: 'string' },
      versions: { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) return 'help';
  const idStyle = values['id-style'] ?? 'v1';
  if (idStyle !== 'v1' && idStyle !== 'uuid') throw new ConfigError('--id-style', 'must be v1 or uuid');
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new ConfigError('--tls-cert/--tls-key', 'must be given together');
  }
  return {
    port: integer('port', values.port, 8443),
    host: values.host ?? '127.0.0.1',
    fleet: { count: integer('vms', values.vms, 25, 1), idStyle },
    seed: integer('seed', values.seed, 1),
    sessionDurationMs: sessionDuration(values['session-ms']),
    outcomes: {
      warning: rate('warning-rate', values['warning-rate']),
      error: rate('error-rate', values['error-rate']),
    },
    latencyMs: integer('latency-ms', values['latency-ms'], 0),
    versions: versions(values.versions),
    tls:
      values['tls-cert'] && values['tls-key']
        ? { cert: readPem('tls-cert', values['tls-cert']), key: readPem('tls-key', values['tls-key']) }
        : undefined,
  };
}

/** Starts the simulator the arguments describe and prints where it listens (undefined for --help). */
export async function runCli(
  argv: string[],
  write: (text: string) => void = (text) => process.stdout.write(text),
): Promise<SimulatorHandle | undefined> {
  const options = parseCliArgs(argv);
  if (options === 'help') {
    write(`${USAGE}\n`);
    return undefined;
  }
  const handle = await startSimulator(options);
  write(
    `Veeam Backup for Microsoft Azure simulator listening on ${handle.url}\n` +
      `  ${options.fleet?.count} VMs, seed ${options.seed}, API ${(options.versions ?? ['v1', 'v8.1']).join(' + ')}\n` +
      `  demo credentials: username ${DEFAULT_USER.username}, password ${DEFAULT_USER.password}\n`,
  );
  return handle;
}

if (require.main === module) {
  // Signals are handled from the start, so one arriving while the fleet is being built still ends cleanly.
  let started: Promise<SimulatorHandle | undefined> = Promise.resolve(undefined);
  const stop = (): void => {
    started.then((handle) => handle?.close()).finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  started = runCli(process.argv.slice(2));
  started
    .then((handle) => {
      if (!handle) process.exit(0);
    })
    .catch((error: unknown) => {
      const config =
        error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
      process.stderr.write(
        `${error instanceof Error ? error.message : String(error)}\n${config ? USAGE + '\n' : ''}`,
      );
      process.exit(config ? 2 : 1);
    });
}
