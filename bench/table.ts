/** Formats scenario results as a Markdown table (the same text goes to stdout and BENCHMARKS.md). */
import type { ScenarioResult } from './scenario';

const HEADER = [
  'scenario',
  'wall s',
  'lower bound s',
  'efficiency',
  'with submission',
  'req/VM list',
  'delete',
  'poll',
  'auth',
  'total',
  'peak RSS MB',
  'peak heap MB',
  'CPU s',
  'sim CPU s',
  'load',
  'correct',
];

export function scenarioTable(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => [
    r.scenario.name,
    (r.wallMs / 1000).toFixed(2),
    (r.lowerBoundMs / 1000).toFixed(2),
    r.efficiency.toFixed(3),
    r.submitEfficiency === undefined ? '—' : r.submitEfficiency.toFixed(3),
    r.perVm.list.toFixed(3),
    r.perVm.delete.toFixed(3),
    r.perVm.poll.toFixed(2),
    r.perVm.auth.toFixed(4),
    r.perVm.total.toFixed(2),
    r.peakRssMb.toFixed(0),
    r.peakHeapMb.toFixed(0),
    r.cpuSeconds.toFixed(2),
    r.simulatorCpuSeconds.toFixed(2),
    r.load.toFixed(1),
    r.correct ? 'yes' : `NO: ${r.problems.join('; ')}`,
  ]);
  return markdownTable(HEADER, rows);
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  const rule = `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
