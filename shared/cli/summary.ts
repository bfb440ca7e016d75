import { displayId } from '../displayId';
import type { Report, VmResult } from '../report';

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * What the appliance said about a Warning: its last Warning log entry, else its last entry. Appliance text
 * is escaped and cut like an id, since it goes to a terminal.
 */
function warningText(result: VmResult): string {
  const log = result.log ?? [];
  const entry = [...log].reverse().find((e) => e.status === 'Warning') ?? log[log.length - 1];
  return entry?.message ? displayId(entry.message) : 'the session log gave no detail';
}

/** Retention runs: "3 deleted, 2 kept, 1 locked". */
function retentionText(result: VmResult): string | undefined {
  if (result.deletedSnapshots === undefined) return undefined;
  const counts = `${result.deletedSnapshots} deleted, ${result.keptSnapshots ?? 0} kept, ${result.lockedSnapshots ?? 0} locked`;
  if (result.outcome !== 'WouldDelete') return counts;
  const due = (result.snapshots ?? []).filter((s) => s.action === 'wouldDelete').length;
  return `${due} would be deleted, ${result.keptSnapshots ?? 0} kept`;
}

function detailOf(result: VmResult): string {
  const retention = retentionText(result);
  // A retention Warning may come from a locked snapshot alone, which has no session log to quote.
  const quote = result.outcome === 'Warning' && (retention === undefined || result.log);
  const why = result.error ?? (quote ? warningText(result) : undefined);
  if (retention) return why ? `${retention}; ${why}` : retention;
  if (why) return why;
  if (result.excludedBy) return `excluded by ${result.excludedBy}`;
  if (result.note) return result.note;
  return result.snapshots ? `${result.snapshots.length} manual snapshot(s)` : '';
}

/** The run's one-line account: id, trigger, API, duration and the totals. */
export function formatRunLine(report: Report): string {
  const t = report.totals;
  const totals = [
    `${t.targets} target(s)`,
    `${t.succeeded} succeeded`,
    `${t.warning} warning`,
    `${t.failed} failed`,
    `${t.timedOut} timed out`,
    `${t.skipped} skipped`,
    `${t.invalid} invalid`,
    ...(t.excluded > 0 ? [`${t.excluded} excluded`] : []),
    ...(report.dryRun ? [`${t.wouldDelete} would delete`] : []),
  ].join(', ');
  return (
    `Run ${report.runId} (${report.trigger}, API ${report.apiVersion ?? 'n/a'}${report.dryRun ? ', dry run' : ''}) ` +
    `took ${formatDuration(report.durationMs)}: ${totals}` +
    (report.duplicatesRemoved ? ` (${report.duplicatesRemoved} duplicate id(s) merged)` : '')
  );
}

/** A plain-text table of the run, for people: VM, outcome, session, duration, and why when it went wrong. */
export function formatSummary(report: Report): string {
  // The appliance column appears once a run spans several: a VM id alone no longer names a target.
  const several = report.appliances.length > 1;
  const rows = report.results.map((r) => [
    ...(several ? [r.appliance] : []),
    r.vmId,
    r.outcome,
    r.sessionId ?? '-',
    formatDuration(r.durationMs),
    detailOf(r),
  ]);
  const header = [...(several ? ['APPLIANCE'] : []), 'VM', 'OUTCOME', 'SESSION', 'DURATION', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [
    line(header),
    ...rows.map(line),
    '',
    formatRunLine(report),
    ...(report.failure ? [`Appliance not usable (${report.failure.kind}): ${report.failure.message}`] : []),
    ...(several
      ? report.appliances.flatMap((a) =>
          a.failure ? [`Appliance ${a.name} not usable (${a.failure.kind}): ${a.failure.message}`] : [],
        )
      : []),
  ].join('\n');
}
