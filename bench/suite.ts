/**
 * The benchmark proper, loaded by bench/run.ts once the command line parsed: the selected scenarios (each
 * --repeat times), the sequential baseline, cold start and package size, printed, and BENCHMARKS.md when the
 * whole suite ran.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAzurite, type AzuriteProcess } from '../test/support/azurite';
import type { BenchArgs } from './args';
import { measureBaseline } from './baselineRun';
import { measureColdStart } from './coldStart';
import { REPO_ROOT } from './ipc';
import { machineInfo } from './machine';
import { checkTargets, renderMarkdown, speedUp, type BenchFigures } from './markdown';
import { buildPackage, BUNDLE_FILE } from './package';
import { medianRun, repeatTable, type RepeatedScenario } from './repeat';
import { runScenario, type ScenarioResult } from './scenario';
import { buildScenarios } from './scenarios';
import { scenarioTable } from './table';

const log = (text: string) => process.stderr.write(`${text}\n`);

function runLine(result: ScenarioResult, label: string): string {
  return (
    `${label}: ${(result.wallMs / 1000).toFixed(2)} s, efficiency ${result.efficiency.toFixed(3)}` +
    `${result.submitEfficiency === undefined ? '' : ` (${result.submitEfficiency.toFixed(3)} with submission)`}, ` +
    `${result.perVm.total.toFixed(2)} req/VM, ${result.peakRssMb.toFixed(0)} MB RSS ` +
    `(heap ${result.peakHeapMb.toFixed(0)} MB), load ${result.load.toFixed(2)}` +
    `${result.heapSnapshot ? `, snapshot ${result.heapSnapshot}` : ''}${result.correct ? '' : ' INCORRECT'}`
  );
}

async function runScenarios(args: BenchArgs): Promise<RepeatedScenario[]> {
  const scenarios = buildScenarios({
    modes: args.modes,
    sizes: args.sizes,
    faults: args.faults,
    cap64MaxVms: args.cap64MaxVms,
  });
  let azurite: AzuriteProcess | undefined;
  if (args.storage) {
    azurite = await startAzurite();
    await azurite.ready;
  }
  const engineExecArgv = [
    ...(args.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', args.cpuProf] : []),
    ...args.engineFlags,
  ];
  const groups: RepeatedScenario[] = [];
  try {
    for (const scenario of scenarios) {
      const runs: ScenarioResult[] = [];
      for (let i = 1; i <= args.repeat; i++) {
        const result = await runScenario(scenario, {
          engineExecArgv,
          sessionMs: args.sessionMs,
          ...(azurite ? { storageConnectionString: azurite.connectionString } : {}),
          ...(args.heapSnapshot
            ? { heapSnapshotDir: args.heapSnapshot, heapSnapshotAtMs: args.heapSnapshotAtMs }
            : {}),
        });
        runs.push(result);
        log(runLine(result, args.repeat > 1 ? `${scenario.name} (run ${i}/${args.repeat})` : scenario.name));
      }
      groups.push({ runs });
    }
  } finally {
    await azurite?.stop();
  }
  return groups;
}

function printFigures(figures: BenchFigures, groups: readonly RepeatedScenario[], repeat: number): void {
  const out = (text: string) => process.stdout.write(`${text}\n`);
  if (repeat > 1) {
    out(`${scenarioTable(groups.flatMap((g) => g.runs))}\n`);
    out(`${repeatTable(groups)}\n`);
  } else out(`${scenarioTable(figures.scenarios)}\n`);
  if (figures.baseline) {
    const b = figures.baseline;
    const s = speedUp(figures);
    out(
      `sequential baseline: measured ${(b.measuredWallMs / 1000).toFixed(1)} s at N = ${b.measuredVms}, ` +
        `extrapolated linearly to N = ${b.extrapolatedVms}: ${(b.extrapolatedWallMs / 60_000).toFixed(1)} min` +
        `${s === undefined ? '' : `; speed-up at 300 VMs: ${s.toFixed(0)}×`}`,
    );
  }
  if (figures.coldStart)
    out(`cold start (import, median of 10): ${figures.coldStart.medianMs.toFixed(0)} ms`);
  if (figures.bundledColdStart) {
    out(
      `cold start of the bundle (import, median of 10): ${figures.bundledColdStart.medianMs.toFixed(0)} ms`,
    );
  }
  if (figures.pkg) {
    out(`package: zip ${(figures.pkg.bytes / 1_048_576).toFixed(2)} MB, ${figures.pkg.files} files`);
  }
  for (const check of checkTargets(figures)) {
    out(
      `target ${check.met === undefined ? '—  ' : check.met ? 'met' : 'MISSED'}: ${check.target} (${check.measured})`,
    );
  }
}

/** Runs what `args` selects; resolves with the exit code (1 when a run was not correct). */
export async function runSuite(args: BenchArgs): Promise<number> {
  const started = performance.now();
  const machine = machineInfo();
  log(`CPU check ${machine.cpuCheckMs} ms (bench/machine.ts; higher means a slower or shared host)`);
  const groups = await runScenarios(args);
  const figures: BenchFigures = { machine, totalSeconds: 0, scenarios: groups.map((g) => medianRun(g.runs)) };
  if (args.baseline) {
    log('sequential baseline at N = 10 (about 2–3 minutes)…');
    figures.baseline = await measureBaseline();
  }
  if (args.cold) figures.coldStart = measureColdStart(REPO_ROOT);
  if (args.pkg) {
    const outDir = mkdtempSync(path.join(os.tmpdir(), 'veeam-cleanup-pkg-'));
    figures.pkg = await buildPackage(REPO_ROOT, { outDir });
    if (args.cold) {
      figures.bundledColdStart = measureColdStart(REPO_ROOT, 10, [path.join(figures.pkg.dir, BUNDLE_FILE)]);
    }
    rmSync(outDir, { recursive: true, force: true });
  }
  figures.totalSeconds = (performance.now() - started) / 1000;
  printFigures(figures, groups, args.repeat);
  if (args.wholeSuite) {
    const file = args.output ?? path.join(REPO_ROOT, 'BENCHMARKS.md');
    writeFileSync(file, renderMarkdown(figures));
    log(`${path.relative(process.cwd(), file) || file} rewritten`);
  } else log('a selection ran: BENCHMARKS.md left as it is (the whole suite rewrites it)');
  return groups.some((g) => g.runs.some((r) => !r.correct)) ? 1 : 0;
}
