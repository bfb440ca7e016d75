import { computeTotals, type Report, type VmResult } from '../report';

/**
 * Holds one result per target. The first settlement of a VM wins; later ones are ignored, so a VM can never
 * appear twice in a report, whatever races between deadline, abort and late answers.
 */
export class ResultBook {
  private readonly results = new Map<string, VmResult>();

  constructor(private readonly order: readonly string[]) {}

  settle(result: VmResult): boolean {
    if (this.results.has(result.vmId)) return false;
    this.results.set(result.vmId, result);
    return true;
  }

  isSettled(vmId: string): boolean {
    return this.results.has(vmId);
  }

  get size(): number {
    return this.order.length;
  }

  get settledCount(): number {
    return this.results.size;
  }

  /** Settles every target still open with `fill` and returns the results in target order. */
  close(fill: (vmId: string) => VmResult): VmResult[] {
    for (const vmId of this.order) if (!this.results.has(vmId)) this.results.set(vmId, fill(vmId));
    return this.order.map((vmId) => this.results.get(vmId) as VmResult);
  }
}

export function assembleReport(
  base: Omit<Report, 'totals' | 'finishedAt' | 'durationMs' | 'results'>,
  results: VmResult[],
  finishedAtMs: number,
): Report {
  return {
    ...base,
    finishedAt: new Date(finishedAtMs).toISOString(),
    durationMs: finishedAtMs - Date.parse(base.startedAt),
    totals: computeTotals(results),
    results,
  };
}
