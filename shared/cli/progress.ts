import type { CleanupProgress } from '../cleanup';

/**
 * Progress on stderr: one rewritten status line on a terminal, plain lines otherwise (CI logs, pipes),
 * so stdout stays free for the report.
 */
export function createProgressPrinter(stream: NodeJS.WriteStream = process.stderr): {
  onProgress: (progress: CleanupProgress) => void;
  info: (message: string) => void;
  done: () => void;
} {
  const tty = stream.isTTY === true;
  const counts = new Map<string, number>();
  // Each appliance counts its own targets; the line shows the run's sum.
  const totals = new Map<string, number>();
  let settled = 0;
  let statusShown = false;
  const clear = (): void => {
    if (tty && statusShown) stream.write('\r\x1b[2K');
    statusShown = false;
  };
  return {
    onProgress(progress) {
      totals.set(progress.appliance, progress.total);
      if (progress.phase !== 'settled' || !progress.result) return;
      const r = progress.result;
      settled += 1;
      counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
      const total = [...totals.values()].reduce((sum, n) => sum + n, 0);
      if (tty) {
        const summary = [...counts].map(([k, v]) => `${v} ${k}`).join(', ');
        clear();
        stream.write(`[${settled}/${total}] ${summary}`);
        statusShown = true;
      } else {
        const session = r.sessionId ? ` session ${r.sessionId}` : '';
        const target = totals.size > 1 ? `${r.appliance}/${r.vmId}` : r.vmId;
        stream.write(`[${settled}/${total}] ${target} ${r.outcome}${session}\n`);
      }
    },
    info(message) {
      clear();
      stream.write(`${message}\n`);
    },
    done() {
      if (tty && statusShown) stream.write('\n');
      statusShown = false;
    },
  };
}
