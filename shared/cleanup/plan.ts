import type { ApplianceConfig } from '../config';
import type { SnapshotInfo } from '../report';
import type { RestorePoint } from '../veeam/types';
import type { RunContext } from './context';
import { decideRetention, type PointDecision, type RetentionRule } from './retention';
import type { RetentionOverride } from './types';

/** The stricter of two limits where larger keeps more; unset on one side means no limit there. */
export const stricterLimit = (a?: number, b?: number): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

/**
 * An appliance's retention for this run, or undefined when neither limit is set (then every manual snapshot
 * is due). A run's override can only tighten it: the older age and the larger count win.
 */
export function retentionRuleOf(
  appliance: Pick<ApplianceConfig, 'minAgeMs' | 'keepLatest'>,
  override: RetentionOverride = {},
): RetentionRule | undefined {
  const minAgeMs = stricterLimit(override.minAgeMs, appliance.minAgeMs);
  const keepLatest = stricterLimit(override.keepLatest, appliance.keepLatest);
  if (minAgeMs === undefined && keepLatest === undefined) return undefined;
  return {
    ...(minAgeMs !== undefined ? { minAgeMs } : {}),
    ...(keepLatest !== undefined ? { keepLatest } : {}),
  };
}

/** One VM's manual snapshots, each with its decision. */
export interface RetentionPlan {
  vmId: string;
  decisions: PointDecision[];
  /** Facts of each point by id, for the report. */
  points: ReadonlyMap<string, RestorePoint>;
}

/** Lists the VM's restore points (paged) and decides each manual one. */
export async function planRetention(
  run: RunContext,
  vmId: string,
  rule: RetentionRule,
  nowMs: number,
): Promise<RetentionPlan> {
  const points = await run.guarded(() => run.client.listRestorePoints(vmId, { abortSignal: run.signal }));
  return {
    vmId,
    decisions: decideRetention(points, rule, nowMs),
    points: new Map(points.map((p) => [p.id, p])),
  };
}

const DECISION_ACTION = { delete: 'wouldDelete', keep: 'kept', immutable: 'immutable' } as const;

/** The report's view of a planned point, before anything was sent. */
export function plannedSnapshot(plan: RetentionPlan, decision: PointDecision): SnapshotInfo {
  const point = plan.points.get(decision.id);
  return {
    id: decision.id,
    pointInTime: decision.pointInTime ?? point?.pointInTime ?? '',
    ...(point?.vmName ? { vmName: point.vmName } : {}),
    ...(point?.regionName ? { regionName: point.regionName } : {}),
    action: DECISION_ACTION[decision.action],
    ...(decision.reason ? { reason: decision.reason } : {}),
  };
}
