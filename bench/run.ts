/**
 * npm run bench: every scenario in turn (a fresh simulator child and engine child each), the sequential
 * baseline, cold start and package size; prints the table and rewrites BENCHMARKS.md. Flags run a subset:
 *   node dist/bench/run.js --only v1,batch --sizes 300 --faults clean --no-baseline --no-cold --no-package
 * A subset leaves BENCHMARKS.md alone unless --write is given.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureBaseline } from './baselineRun';
import { measureColdStart } from './coldStart';
import { machineInfo } from './machine';
import { checkTargets, renderMarkdown, speedUp, type BenchFigures } from './markdown';
import { buildPackage, BUNDLE_FILE } from './package';
import { runScenario } from './scenario';
import { buildScenarios, MODES, SIZES, type Mode } from './scenarios';
import { scenarioTable } from './table';

const ROOT = path.resolve(__dirname, '../..');

function list<T>(raw: string | undefined, all: readonly T[], parse: (s: string) => T): readonly T[] {
  if (raw === undefined) return all;
  return raw.split(',').map((s) => {
    const value = parse(s.trim());
    if (!all.includes(value)) throw new Error(`unknown value ${s}; expected one of ${all.join(', ')}`);
    return value;
  });
}

const log = (text: string) => process.stderr.write(`${text}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      sizes: { type: 'string' },
      faults: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'no-baseline': { type: 'boolean' },
      'no-cold': { type: 'boolean' },
      'no-package': { type: 'boolean' },
      write: { type: 'boolean' },
    },
    strict: true,
  });
  const subset =
    values.only !== undefined ||
    values.sizes !== undefined ||
    values.faults !== undefined ||
    values['no-baseline'] === true ||
    values['no-cold'] === true ||
    values['no-package'] === true;
  const started = performance.now();
  const scenarios = buildScenarios({
    modes: list<Mode>(values.only, MODES, (s) => s as Mode),
    sizes: list(values.sizes, SIZES, Number),
    faults: list(values.faults, ['clean', 'faults'], (s) => s).map((s) => s === 'faults'),
  });
  const machine = machineInfo();
  const figures: BenchFigures = { machine, totalSeconds: 0, scenarios: [] };
  const execArgv = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [];
  for (const scenario of scenarios) {
    const result = await runScenario(scenario, { engineExecArgv: execArgv });
    figures.scenarios.push(result);
    log(
      `${scenario.name}: ${(result.wallMs / 1000).toFixed(2)} s, efficiency ${result.efficiency.toFixed(3)}, ` +
        `${result.perVm.total.toFixed(2)} req/VM, ${result.peakRssMb.toFixed(0)} MB${result.correct ? '' : ' INCORRECT'}`,
    );
  }
  if (!values['no-baseline']) {
    log('sequential baseline at N = 10 (about 2–3 minutes)…');
    figures.baseline = await measureBaseline();
  }
  if (!values['no-cold']) figures.coldStart = measureColdStart(ROOT);
  if (!values['no-package']) {
    const outDir = mkdtempSync(path.join(os.tmpdir(), 'veeam-cleanup-pkg-'));
    figures.pkg = await buildPackage(ROOT, { outDir });
    if (!values['no-cold']) {
      figures.bundledColdStart = measureColdStart(ROOT, 10, [path.join(figures.pkg.dir, BUNDLE_FILE)]);
    }
    rmSync(outDir, { recursive: true, force: true });
  }
  figures.totalSeconds = (performance.now() - started) / 1000;

  process.stdout.write(`${scenarioTable(figures.scenarios)}\n\n`);
  if (figures.baseline) {
    const b = figures.baseline;
    const s = speedUp(figures);
    process.stdout.write(
      `sequential baseline: measured ${(b.measuredWallMs / 1000).toFixed(1)} s at N = ${b.measuredVms}, ` +
        `extrapolated linearly to N = ${b.extrapolatedVms}: ${(b.extrapolatedWallMs / 60_000).toFixed(1)} min` +
        `${s === undefined ? '' : `; speed-up at 300 VMs: ${s.toFixed(0)}×`}\n`,
    );
  }
  if (figures.coldStart)
    process.stdout.write(`cold start (import, median of 10): ${figures.coldStart.medianMs.toFixed(0)} ms\n`);
  if (figures.bundledColdStart) {
    process.stdout.write(
      `cold start of the bundle (import, median of 10): ${figures.bundledColdStart.medianMs.toFixed(0)} ms\n`,
    );
  }
  if (figures.pkg) {
    process.stdout.write(
      `package: zip ${(figures.pkg.bytes / 1_048_576).toFixed(2)} MB, ${figures.pkg.files} files\n`,
    );
  }
  for (const check of checkTargets(figures)) {
    process.stdout.write(
      `target ${check.met === undefined ? '—  ' : check.met ? 'met' : 'MISSED'}: ${check.target} (${check.measured})\n`,
    );
  }
  if (!subset || values.write) {
    writeFileSync(path.join(ROOT, 'BENCHMARKS.md'), renderMarkdown(figures));
    log('BENCHMARKS.md rewritten');
  }
  if (figures.scenarios.some((r) => !r.correct)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
