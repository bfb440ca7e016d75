/** BENCHMARKS.md, generated in full from one run's figures. */
import type { BaselineFigures } from './baselineRun';
import type { ColdStartResult } from './coldStart';
import type { MachineInfo } from './machine';
import type { PackageResult } from './package';
import type { ScenarioResult } from './scenario';
import { LATENCY_MS, SEED, SESSION_MS } from './scenarios';
import { markdownTable, scenarioTable } from './table';

export interface BenchFigures {
  machine: MachineInfo;
  totalSeconds: number;
  scenarios: ScenarioResult[];
  baseline?: BaselineFigures;
  coldStart?: ColdStartResult;
  pkg?: PackageResult;
  /** Import of the bundle in dist/deploy/app, measured like coldStart. */
  bundledColdStart?: ColdStartResult;
}

/** Bundled import time as a fraction of the unbundled one. */
export function bundledImportRatio(figures: BenchFigures): number | undefined {
  const { coldStart, bundledColdStart } = figures;
  return coldStart && bundledColdStart ? bundledColdStart.medianMs / coldStart.medianMs : undefined;
}

export interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

const find = (results: ScenarioResult[], mode: string, vms: number, faults = false) =>
  results.find((r) => r.scenario.mode === mode && r.scenario.vmCount === vms && r.scenario.faults === faults);

export function speedUp(figures: BenchFigures): number | undefined {
  const v1 = find(figures.scenarios, 'v1', 300);
  return figures.baseline && v1 ? figures.baseline.extrapolatedWallMs / v1.wallMs : undefined;
}

/** The targets, judged on the clean (fault-free) scenarios. */
export function checkTargets(figures: BenchFigures): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const v1 = find(figures.scenarios, 'v1', 3000);
  checks.push({
    target: 'v1 · 3000: efficiency ≥ 0.92 and ≤ 3.5 requests/VM',
    measured: v1 ? `${v1.efficiency.toFixed(3)}, ${v1.perVm.total.toFixed(2)} req/VM` : 'not run',
    met: v1 ? v1.efficiency >= 0.92 && v1.perVm.total <= 3.5 : undefined,
  });
  const v81 = find(figures.scenarios, 'v8.1', 3000);
  checks.push({
    target: 'v8.1 · 3000 per VM: ≤ 2.5 requests/VM in total',
    measured: v81 ? `${v81.perVm.total.toFixed(2)} req/VM` : 'not run',
    met: v81 ? v81.perVm.total <= 2.5 : undefined,
  });
  const perVm10k = figures.scenarios.filter(
    (r) => r.scenario.vmCount === 10_000 && !r.scenario.faults && ['v1', 'v8.1'].includes(r.scenario.mode),
  );
  const worst10k = perVm10k.length ? Math.min(...perVm10k.map((r) => r.efficiency)) : undefined;
  checks.push({
    target: '10,000 VMs per VM (v1, v8.1): efficiency ≥ 0.85',
    measured: worst10k === undefined ? 'not run' : `${worst10k.toFixed(3)} (worst)`,
    met: worst10k === undefined ? undefined : worst10k >= 0.85,
  });
  const batches = figures.scenarios.filter((r) => r.scenario.mode === 'batch' && !r.scenario.faults);
  checks.push({
    target: 'v8.1 batch: ≤ 1.5 requests/VM',
    measured: batches.length
      ? batches.map((r) => `${r.scenario.vmCount}: ${r.perVm.total.toFixed(3)}`).join(', ')
      : 'not run',
    met: batches.length ? batches.every((r) => r.perVm.total <= 1.5) : undefined,
  });
  const retention = find(figures.scenarios, 'retention', 3000);
  checks.push({
    target: 'retention · 3000: ≤ 1 list request/VM (≤ 6 points each), efficiency ≥ 0.90, peak RSS ≤ 150 MB',
    measured: retention
      ? `${retention.perVm.list.toFixed(3)} list/VM, ${retention.efficiency.toFixed(3)}, ${retention.peakRssMb.toFixed(0)} MB`
      : 'not run',
    met: retention
      ? retention.perVm.list <= 1 && retention.efficiency >= 0.9 && retention.peakRssMb <= 150
      : undefined,
  });
  const big = figures.scenarios.filter((r) => r.scenario.vmCount === 10_000);
  const peak = big.length ? Math.max(...big.map((r) => r.peakRssMb)) : undefined;
  checks.push({
    target: 'peak RSS ≤ 150 MB at 10,000 VMs (every mode and variant)',
    measured: peak === undefined ? 'not run' : `${peak.toFixed(0)} MB (worst)`,
    met: peak === undefined ? undefined : peak <= 150,
  });
  const s = speedUp(figures);
  checks.push({
    target: '≥ 50× the sequential baseline at 300 VMs (v1)',
    measured: s === undefined ? 'not run' : `${s.toFixed(0)}×`,
    met: s === undefined ? undefined : s >= 50,
  });
  checks.push({
    target: 'function entry import ≤ 500 ms (median of 10)',
    measured: figures.coldStart ? `${figures.coldStart.medianMs.toFixed(0)} ms` : 'not run',
    met: figures.coldStart ? figures.coldStart.medianMs <= 500 : undefined,
  });
  const { pkg } = figures;
  checks.push({
    target: 'deployment zip ≤ 5 MB',
    measured: pkg ? `${(pkg.bytes / 1_048_576).toFixed(2)} MB` : 'not run',
    met: pkg ? pkg.bytes <= 5 * 1_048_576 : undefined,
  });
  checks.push({
    target: 'deployment zip ≤ 10 files',
    measured: pkg ? `${pkg.files} files` : 'not run',
    met: pkg ? pkg.files <= 10 : undefined,
  });
  const ratio = bundledImportRatio(figures);
  checks.push({
    target: 'bundled import ≤ 60 % of unbundled (median of 10)',
    measured: ratio === undefined ? 'not run' : `${(ratio * 100).toFixed(0)} %`,
    met: ratio === undefined ? undefined : ratio <= 0.6,
  });
  return checks;
}

export function renderMarkdown(figures: BenchFigures): string {
  const { machine, baseline, coldStart, pkg, bundledColdStart } = figures;
  const out: string[] = [];
  out.push('# Benchmarks');
  out.push('');
  out.push('<!-- Generated by `npm run bench` (bench/run.ts). Do not edit by hand; rerun it. -->');
  out.push('');
  out.push(
    `Run ${machine.date} on ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb.toFixed(1)} GB, ` +
      `${machine.platform}, Node ${machine.node}; CPU check ${machine.cpuCheckMs} ms (bench/machine.ts: higher means a ` +
      `slower or shared host); the whole run took ${(figures.totalSeconds / 60).toFixed(1)} min.`,
  );
  out.push('');
  out.push('## Setup');
  out.push('');
  out.push(
    [
      `- Each scenario: a fresh simulator child process (\`bench/simulatorChild.ts\`) and a fresh engine child`,
      `  process (\`bench/engineChild.ts\`) that calls \`startRun({ trigger: 'cli', env })\`, the CLI's entry`,
      `  point, with the client's default poll settings and the default \`CLEANUP_CONCURRENCY\`.`,
      `- Fleet: v1-style ids; session durations uniform in ${SESSION_MS.min / 1000}–${SESSION_MS.max / 1000} s,`,
      `  drawn per VM from seed ${SEED}; ${LATENCY_MS} ms added latency per request; loopback only (the test`,
      `  network guard is loaded in every child).`,
      `- Modes: \`v1\` one delete per VM; \`v8.1\` one delete per VM; \`batch\` v8.1 with \`CLEANUP_BATCH=true\``,
      `  (100 VMs per request). The \`503/429\` variant answers 2 % of requests 503 and 1 % 429 with`,
      `  \`Retry-After: 1\` (applied after the RTT probe).`,
      `- Lower bound: the longest session of the fleet plus one round trip (median of 21 health-probe GETs,`,
      `  latency included). Efficiency = lower bound / wall. "With submission" (v1, v8.1): the bound that`,
      `  includes the submission phase, max over VMs of ⌊i/16⌋ round trips + that VM's session, + 1 RTT.`,
      `- Requests per VM: the simulator's own per-route counters ÷ N. delete = delete routes; poll = session`,
      `  GET, running-sessions page and session log; auth = token and health probe. Rejected (503/429)`,
      `  requests count: they cost the appliance too.`,
      `- Peak RSS and CPU are the engine child's own (\`process.resourceUsage()\`: maxRSS, user + system);`,
      `  the simulator's CPU is shown apart.`,
    ].join('\n'),
  );
  out.push('');
  out.push('## Scenarios');
  out.push('');
  out.push(scenarioTable(figures.scenarios));
  out.push('');
  const floors = figures.scenarios
    .filter((r) => !r.scenario.faults)
    .map((r) => `${r.scenario.name.replace(' · clean', '')} ${(r.submitFloorMs / 1000).toFixed(2)} s`);
  if (floors.length) {
    out.push(
      `Submitting every delete through the default concurrency cap of 16 takes at least ⌈N/16⌉ round trips ` +
        `(not part of the lower bound above): ${floors.join('; ')}.`,
    );
    out.push('');
  }
  out.push('## Sequential baseline');
  out.push('');
  if (baseline) {
    const s = speedUp(figures);
    out.push(
      `A naive runbook loop (\`bench/baseline.ts\`): log in, then per VM POST the v1 delete and GET the session ` +
        `every ${baseline.pollIntervalMs / 1000} s until it ends, then the next VM. Measured at N = ` +
        `${baseline.measuredVms}: ${(baseline.measuredWallMs / 1000).toFixed(1)} s` +
        `${baseline.allSucceeded ? '' : ' (not every session succeeded!)'}. **Extrapolated linearly** to N = ` +
        `${baseline.extrapolatedVms}: ${(baseline.extrapolatedWallMs / 60_000).toFixed(1)} min. ` +
        (s === undefined
          ? ''
          : `Speed-up of the engine (v1 · 300 · clean) at 300 VMs: **${s.toFixed(0)}×**.`),
    );
  } else out.push('Not measured in this run.');
  out.push('');
  out.push('## Cold start and package');
  out.push('');
  if (coldStart) {
    out.push(
      `Import of \`${coldStart.entry}\` with telemetry configured (connection string to 127.0.0.1, statsbeat, ` +
        `live metrics and resource detectors off), timed inside each of 10 fresh processes: median ` +
        `**${coldStart.medianMs.toFixed(0)} ms** (samples ${coldStart.samplesMs.map((v) => v.toFixed(0)).join(', ')} ms). ` +
        `The App Insights client is created at the first run, so this measures what the module graph loads.`,
    );
  } else out.push('Cold start not measured in this run.');
  out.push('');
  if (pkg) {
    out.push(
      `Deployable package (\`npm run package\`: one esbuild bundle of every function, its source map, ` +
        `host.json and package.json; no node_modules): zip **${(pkg.bytes / 1_048_576).toFixed(2)} MB**, ` +
        `${pkg.files} files (bundle ${(pkg.bundleBytes / 1_048_576).toFixed(1)} MB unzipped).`,
    );
  } else out.push('Package size not measured in this run.');
  if (bundledColdStart) {
    const ratio = bundledImportRatio(figures);
    out.push('');
    out.push(
      `Import of the bundle, measured the same way: median **${bundledColdStart.medianMs.toFixed(0)} ms** ` +
        `(samples ${bundledColdStart.samplesMs.map((v) => v.toFixed(0)).join(', ')} ms)` +
        (ratio === undefined ? '.' : `, ${(ratio * 100).toFixed(0)} % of the unbundled import.`),
    );
  }
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push(
    markdownTable(
      ['target', 'measured', 'met'],
      checkTargets(figures).map((c) => [
        c.target,
        c.measured,
        c.met === undefined ? '—' : c.met ? 'yes' : '**no**',
      ]),
    ),
  );
  out.push('');
  out.push('## Notes');
  out.push('');
  out.push(
    'Profile, schedule design and the reasons behind any missed target: [bench/ANALYSIS.md](bench/ANALYSIS.md). ' +
      'Profile any scenario with `node dist/bench/run.js --only v1 --sizes 3000 --faults clean --cpu-prof /tmp/prof` ' +
      'and summarise it with `node dist/bench/profileSummary.js /tmp/prof/<file>.cpuprofile`.',
  );
  out.push('');
  return out.join('\n');
}
