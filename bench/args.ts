/**
 * The bench's command line: parsed strictly (node:util parseArgs), so a typo is a usage error instead of a
 * silently different run. `parseBenchArgs` throws UsageError with a message naming the flag, never a stack.
 */
import { parseArgs } from 'node:util';
import { CAP64_DEFAULT_MAX_VMS, MODES, SESSION_MS, SIZES, type Mode } from './scenarios';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface BenchArgs {
  help: boolean;
  modes: readonly Mode[];
  sizes: readonly number[];
  faults: readonly boolean[];
  repeat: number;
  sessionMs: { min: number; max: number };
  /** Azurite in memory behind AzureWebJobsStorage, so each run holds the lease and writes the ledger. */
  storage: boolean;
  baseline: boolean;
  cold: boolean;
  pkg: boolean;
  cpuProf?: string;
  heapSnapshot?: string;
  heapSnapshotAtMs: number | 'peak';
  engineFlags: readonly string[];
  output?: string;
  /** cap64 fleets above this size are left out (unless --only names cap64). */
  cap64MaxVms: number;
  /** Every scenario, the baseline, cold start and package, with the standard setup: BENCHMARKS.md is rewritten. */
  wholeSuite: boolean;
}

export const USAGE = `Usage: npm run bench -- [flags]     (or: node dist/bench/run.js [flags])

Runs the benchmark scenarios (each with a fresh simulator child and a fresh engine child), the sequential
baseline, cold start and package size, and prints the figures. BENCHMARKS.md is rewritten only when the whole
suite ran with the standard setup (no flag below except --repeat and --output); any selection only prints.

Selection:
  --only MODES        comma-separated modes: ${MODES.join(', ')} (default: all; cap64 only at
                      ${CAP64_DEFAULT_MAX_VMS} VMs and below unless named, since it takes N / 64 waves of sessions)
  --sizes N,...       fleet sizes, positive integers (default: ${SIZES.join(', ')})
  --faults KINDS      clean, faults (503/429 variant) or both, comma-separated (default: both)
  --no-baseline       skip the sequential baseline (about 2-3 minutes)
  --no-cold           skip the cold-start measurement
  --no-package        skip the package build and size

Runs:
  --repeat N          run each selected scenario N times (1-20, default 1); prints every run and the minimum
                      and median of efficiency, duration, requests/VM and peak RSS
  --storage           start Azurite in memory (own process) and point AzureWebJobsStorage at it, so each run
                      takes the lease and writes the ledger as on Azure
  --session-ms A-B    session durations uniform in A-B ms (default: ${SESSION_MS.min}-${SESSION_MS.max})

Profiling (engine child only):
  --cpu-prof DIR      write a V8 CPU profile of each engine child into DIR
  --heap-snapshot DIR write one heap snapshot of each engine child into DIR (v8.writeHeapSnapshot)
  --heap-snapshot-at S ... this many seconds into the run (default 6), or 'peak': after each major GC that
                      leaves the live heap 10 % larger than at the last snapshot (the file keeps the largest)
  --engine-flag FLAG  pass a Node/V8 flag to the engine child, e.g. --engine-flag=--trace-gc (repeatable)

Output:
  --output FILE       where the whole suite writes the Markdown (default: BENCHMARKS.md in the repo)
  --help              print this text and exit
`;

function list<T>(raw: string | undefined, flag: string, all: readonly T[], parse: (s: string) => T) {
  if (raw === undefined) return all;
  const values = raw.split(',').map((s) => s.trim());
  if (values.some((s) => s === '')) throw new UsageError(`${flag}: empty value in the list`);
  return values.map((s) => {
    const value = parse(s);
    if (!all.includes(value))
      throw new UsageError(`${flag}: unknown value; expected one of ${all.join(', ')}`);
    return value;
  });
}

function positiveInt(raw: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`${flag}: expected a positive integer`);
  const n = Number(raw);
  if (n < 1 || n > max) throw new UsageError(`${flag}: expected an integer from 1 to ${max}`);
  return n;
}

function range(raw: string | undefined, flag: string): { min: number; max: number } {
  if (raw === undefined) return SESSION_MS;
  const m = /^(\d+)-(\d+)$/.exec(raw);
  if (!m) throw new UsageError(`${flag}: expected MIN-MAX in ms, e.g. 5000-20000`);
  const [min, max] = [Number(m[1]), Number(m[2])];
  if (min < 1 || max < min) throw new UsageError(`${flag}: expected 1 ≤ MIN ≤ MAX`);
  return { min, max };
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        only: { type: 'string' },
        sizes: { type: 'string' },
        faults: { type: 'string' },
        repeat: { type: 'string' },
        storage: { type: 'boolean' },
        'session-ms': { type: 'string' },
        'cpu-prof': { type: 'string' },
        'heap-snapshot': { type: 'string' },
        'heap-snapshot-at': { type: 'string' },
        'engine-flag': { type: 'string', multiple: true },
        output: { type: 'string' },
        'no-baseline': { type: 'boolean' },
        'no-cold': { type: 'boolean' },
        'no-package': { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    // parseArgs names the flag in its message (ERR_PARSE_ARGS_UNKNOWN_OPTION and friends).
    throw new UsageError((error as Error).message);
  }
  const sizes = values.sizes === undefined ? SIZES : values.sizes.split(',').map((s) => s.trim());
  const args: Omit<BenchArgs, 'wholeSuite'> = {
    help: values.help === true,
    modes: list<Mode>(values.only, '--only', MODES, (s) => s as Mode),
    sizes: sizes.map((s) => (typeof s === 'number' ? s : positiveInt(s, '--sizes'))),
    faults: list(values.faults, '--faults', ['clean', 'faults'], (s) => s).map((s) => s === 'faults'),
    repeat: values.repeat === undefined ? 1 : positiveInt(values.repeat, '--repeat', 20),
    sessionMs: range(values['session-ms'], '--session-ms'),
    storage: values.storage === true,
    baseline: values['no-baseline'] !== true,
    cold: values['no-cold'] !== true,
    pkg: values['no-package'] !== true,
    cpuProf: values['cpu-prof'],
    heapSnapshot: values['heap-snapshot'],
    heapSnapshotAtMs:
      values['heap-snapshot-at'] === undefined
        ? 6_000
        : values['heap-snapshot-at'] === 'peak'
          ? 'peak'
          : positiveInt(values['heap-snapshot-at'], '--heap-snapshot-at', 3_600) * 1000,
    engineFlags: values['engine-flag'] ?? [],
    output: values.output,
    cap64MaxVms: values.only === undefined ? CAP64_DEFAULT_MAX_VMS : Infinity,
  };
  const wholeSuite =
    values.only === undefined &&
    values.sizes === undefined &&
    values.faults === undefined &&
    values['session-ms'] === undefined &&
    !args.storage &&
    args.baseline &&
    args.cold &&
    args.pkg &&
    args.cpuProf === undefined &&
    args.heapSnapshot === undefined &&
    args.engineFlags.length === 0;
  return { ...args, wholeSuite };
}

/** Runs a bench command and sets the exit code: its own, or 1 with the stack for an unexpected error. */
export function runCommand(main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
