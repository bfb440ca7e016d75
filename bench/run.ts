/**
 * npm run bench: every scenario in turn (fresh simulator and engine child each), the sequential baseline, cold
 * start and package size; prints the table and rewrites BENCHMARKS.md. Flags run a subset for iteration:
 *   node dist/bench/run.js --only v1,batch --sizes 300 --faults clean --no-baseline --no-cold --no-package
 * A subset does not touch BENCHMARKS.md unless --write is given.
 */
import { parseArgs } from 'node:util';
import { runScenario, type ScenarioResult } from './scenario';
import { buildScenarios, MODES, SIZES, type Mode } from './scenarios';
import { scenarioTable } from './table';

function list<T>(raw: string | undefined, all: readonly T[], parse: (s: string) => T): readonly T[] {
  if (raw === undefined) return all;
  return raw.split(',').map((s) => {
    const value = parse(s.trim());
    if (!all.includes(value)) throw new Error(`unknown value ${s}; expected one of ${all.join(', ')}`);
    return value;
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      sizes: { type: 'string' },
      faults: { type: 'string' },
      'cpu-prof': { type: 'string' },
    },
    strict: true,
  });
  const scenarios = buildScenarios({
    modes: list<Mode>(values.only, MODES, (s) => s as Mode),
    sizes: list(values.sizes, SIZES, Number),
    faults: list(values.faults, ['clean', 'faults'], (s) => s).map((s) => s === 'faults'),
  });
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const execArgv = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
    const result = await runScenario(scenario, { engineExecArgv: execArgv });
    results.push(result);
    process.stderr.write(
      `${scenario.name}: ${(result.wallMs / 1000).toFixed(2)} s, eff ${result.efficiency.toFixed(3)}, ${result.perVm.total.toFixed(2)} req/VM\n`,
    );
  }
  process.stdout.write(`${scenarioTable(results)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
