/** --repeat N: the runs of one scenario, the minimum and median of what varies from run to run. */
import { median, type ScenarioResult } from './scenario';
import { markdownTable } from './table';

export interface RepeatedScenario {
  runs: ScenarioResult[];
}

const FIGURES: readonly { label: string; of(r: ScenarioResult): number; digits: number }[] = [
  { label: 'efficiency', of: (r) => r.efficiency, digits: 3 },
  { label: 'wall s', of: (r) => r.wallMs / 1000, digits: 2 },
  { label: 'req/VM', of: (r) => r.perVm.total, digits: 2 },
  { label: 'peak RSS MB', of: (r) => r.peakRssMb, digits: 0 },
];

/** The run whose efficiency is the median (the lower one of an even count): what BENCHMARKS.md shows. */
export function medianRun(runs: readonly ScenarioResult[]): ScenarioResult {
  const sorted = [...runs].sort((a, b) => a.efficiency - b.efficiency);
  return sorted[(sorted.length - 1) >> 1];
}

export function repeatTable(groups: readonly RepeatedScenario[]): string {
  const header = ['scenario', 'runs', ...FIGURES.flatMap((f) => [`${f.label} min`, 'median'])];
  const rows = groups.map(({ runs }) => [
    runs[0].scenario.name,
    String(runs.length),
    ...FIGURES.flatMap((f) => {
      const values = runs.map(f.of);
      return [Math.min(...values).toFixed(f.digits), median(values).toFixed(f.digits)];
    }),
  ]);
  return markdownTable(header, rows);
}
