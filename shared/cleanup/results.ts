import { computeTotals, type Report, type VmResult } from '../report';
import type { TargetResult } from './types';

/**
 * Holds one result per target of one appliance. The first settlement of a VM wins; later ones are ignored,
 * so a VM can never appear twice in a report, whatever races between deadline, abort and late answers.
 */
export class ResultBook {
  private readonly results = new Map<string, VmResult>();
  private readonly order: string[] = [];
  private readonly known = new Set<string>();

  constructor(
    readonly appliance: string,
    order: readonly string[] = [],
  ) {
    this.add(order);
  }

  /** Adds targets found after the book was opened (discovery), keeping the order and skipping known ones. */
  add(vmIds: Iterable<string>): void {
    for (const vmId of vmIds) {
      if (this.known.has(vmId)) continue;
      this.known.add(vmId);
      this.order.push(vmId);
    }
  }

  get targets(): readonly string[] {
    return this.order;
  }

  /** Returns the result as recorded (with the appliance), or undefined when the VM was settled already. */
  settle(result: TargetResult): VmResult | undefined {
    if (this.results.has(result.vmId)) return undefined;
    const recorded: VmResult = { ...result, appliance: this.appliance };
    this.results.set(result.vmId, recorded);
    return recorded;
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
  close(fill: (vmId: string) => TargetResult): VmResult[] {
    for (const vmId of this.order) if (!this.results.has(vmId)) this.settle(fill(vmId));
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
