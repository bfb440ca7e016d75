/**
 * Command-line entry of the simulator:
 *   node dist/dev/simulator/cli.js --port 8443 --vms 25 --seed 1 [--appliances 2] [--fault route:kind[:p]]
 * Prints each appliance's URL and credentials, and stops on SIGINT/SIGTERM. Usage errors exit 2.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../shared/errors';
import { parseFaultArg } from './faultArg';
import { startSimulators } from './index';
import { COUNTERS_PATH } from './server';
import type { ApiGeneration, SimulatorHandle, SimulatorOptions } from './types';

const USAGE = `usage: simulator [--port 8443] [--host 127.0.0.1] [--appliances 1] [--vms 25] [--id-style v1|uuid]
                 [--seed 1] [--session-ms 200 | --session-ms 5000-20000] [--warning-rate 0] [--error-rate 0]
                 [--latency-ms 0] [--versions v1,v8.1] [--tls-cert cert.pem --tls-key key.pem]
                 [--point-mix] [--deleted-rate 0] [--name-prefixes vm-] [--no-controller]
                 [--fault <route>:<kind>[=<param>][:<probability>]]...`;

const MAX_PORT = 65_535;
const MAX_APPLIANCES = 16;

function integer(name: string, raw: string | undefined, fallback: number, min = 0, max = Infinity): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(`--${name}`, `must be an integer ${range}`);
  }
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

export interface CliPlan {
  /** How many appliances to start (ports port, port+1, ...; each with its own credentials). */
  appliances: number;
  /** The options of the first appliance; startSimulators offsets seed and port for the others. */
  options: SimulatorOptions;
}

function ports(raw: string | undefined, appliances: number): number {
  const port = integer('port', raw, 8443, 0, MAX_PORT);
  if (port !== 0 && port + appliances - 1 > MAX_PORT) {
    throw new ConfigError('--port', `leaves no room for ${appliances} appliances below ${MAX_PORT + 1}`);
  }
  return port;
}

/** Turns command-line arguments into what to start; throws ConfigError naming the bad option. */
export function parseCliArgs(argv: string[]): CliPlan | 'help' {
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
      appliances: { type: 'string' },
      fault: { type: 'string', multiple: true },
      'point-mix': { type: 'boolean' },
      'deleted-rate': { type: 'string' },
      'name-prefixes': { type: 'string' },
      'no-controller': { type: 'boolean' },
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
  const appliances = integer('appliances', values.appliances, 1, 1, MAX_APPLIANCES);
  const namePrefixes = values['name-prefixes']?.split(',').map((p) => p.trim());
  if (namePrefixes?.some((p) => !/^[A-Za-z0-9._-]+$/.test(p))) {
    throw new ConfigError('--name-prefixes', 'must list name prefixes of letters, digits, . _ -');
  }
  const deletedRate = rate('deleted-rate', values['deleted-rate']);
  const options: SimulatorOptions = {
    port: ports(values.port, appliances),
    host: values.host ?? '127.0.0.1',
    fleet: {
      count: integer('vms', values.vms, 25, 1),
      idStyle,
      ...(namePrefixes ? { namePrefixes } : {}),
      ...(deletedRate > 0 ? { deletedRate } : {}),
    },
    controller: !values['no-controller'],
    ...(values['point-mix'] ? { pointMix: {} } : {}),
    ...(values.fault ? { faults: values.fault.map(parseFaultArg) } : {}),
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
  return { appliances, options };
}

/** Starts the appliances the arguments describe and prints where they listen (undefined for --help). */
export async function runCli(
  argv: string[],
  write: (text: string) => void = (text) => process.stdout.write(text),
): Promise<SimulatorHandle[] | undefined> {
  const plan = parseCliArgs(argv);
  if (plan === 'help') {
    write(`${USAGE}\n`);
    return undefined;
  }
  const { appliances, options } = plan;
  const handles = await startSimulators({ count: appliances, base: options });
  const lines = handles.map(
    (handle, i) =>
      `  appliance ${i + 1}: ${handle.url}  username ${handle.credentials.username}, ` +
      `password ${handle.credentials.password}\n`,
  );
  const controller = options.controller ? ' + 1 controller VM' : '';
  write(
    `Veeam Backup for Microsoft Azure simulator: ${appliances} appliance(s) listening\n${lines.join('')}` +
      `  ${options.fleet?.count} VMs${controller} each, seed ${options.seed}${appliances > 1 ? '+i' : ''}, ` +
      `API ${(options.versions ?? ['v1', 'v8.1']).join(' + ')}, ${options.faults?.length ?? 0} fault rule(s)\n` +
      `  counters: GET <url>${COUNTERS_PATH} (loopback only)\n`,
  );
  return handles;
}

if (require.main === module) {
  // Signals are handled from the start, so one arriving while the fleet is being built still ends cleanly.
  let started: Promise<SimulatorHandle[] | undefined> = Promise.resolve(undefined);
  const stop = (): void => {
    started
      .then((handles) => Promise.all((handles ?? []).map((handle) => handle.close())))
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  started = runCli(process.argv.slice(2));
  started
    .then((handles) => {
      if (!handles) process.exit(0);
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
