import type { Report } from '../report';

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** A plain-text table of the run, for people: VM, outcome, session, duration, and why when it went wrong. */
export function formatSummary(report: Report): string {
  const rows = report.results.map((r) => [
    r.vmId,
    r.outcome,
    r.sessionId ?? '-',
    formatDuration(r.durationMs),
    r.error ?? (r.snapshots ? `${r.snapshots.length} manual snapshot(s)` : ''),
  ]);
  const header = ['VM', 'OUTCOME', 'SESSION', 'DURATION', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const t = report.totals;
  const totals = [
    `${t.targets} target(s)`,
    `${t.succeeded} succeeded`,
    `${t.warning} warning`,
    `${t.failed} failed`,
    `${t.timedOut} timed out`,
    `${t.skipped} skipped`,
    `${t.invalid} invalid`,
    ...(report.dryRun ? [`${t.wouldDelete} would delete`] : []),
  ].join(', ');
  return [
    line(header),
    ...rows.map(line),
    '',
    `Run ${report.runId} (${report.trigger}, API ${report.apiVersion ?? 'n/a'}${report.dryRun ? ', dry run' : ''}) ` +
      `took ${formatDuration(report.durationMs)}: ${totals}` +
      (report.duplicatesRemoved ? ` (${report.duplicatesRemoved} duplicate id(s) merged)` : ''),
    ...(report.failure ? [`Appliance not usable (${report.failure.kind}): ${report.failure.message}`] : []),
  ].join('\n');
}
