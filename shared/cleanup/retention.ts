/**
 * The retention planner: decides, for the restore points of one VM, which manual snapshots a run may
 * delete. Pure (no I/O, no clock of its own), so the dry run, the executor and the tests share one rule.
 *
 * Ranking for `keepLatest`: every ManualSnapshot point counts (immutable ones too), newest first by
 * pointInTime; a point whose pointInTime is missing or unparsable ranks as newest (the safe side); ties
 * (equal times, or two unparsable points) are broken by id in ascending code-unit order, so the same input
 * always gives the same plan. The output is in that order.
 *
 * Precedence of reasons: immutable, unreadable immutableTill, unreadable pointInTime, too young, among the
 * newest. A point is deleted only when none applies.
 */

export interface RetentionRule {
  /** Minimum age a manual snapshot must have to be deleted (by its pointInTime); default: no minimum. */
  minAgeMs?: number;
  /** How minAgeMs is written in reasons, e.g. 'P7D' (default: an ISO-8601 form of minAgeMs). */
  minAgeText?: string;
  /** How many of the newest manual snapshots of the VM are always kept (default 0). */
  keepLatest?: number;
}

export interface RestorePointFacts {
  id: string;
  pointInTime?: string | null;
  backupDestination?: string | null;
  immutableTill?: string | null;
}

export type PointAction = 'delete' | 'keep' | 'immutable';

export interface PointDecision {
  id: string;
  pointInTime?: string;
  action: PointAction;
  reason?: string;
}

const MANUAL = 'ManualSnapshot';

/** Milliseconds as an ISO-8601 duration (days, hours, minutes, seconds), e.g. 129600000 -> 'P1DT12H'. */
export function isoDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ['D', 86_400_000],
    ['H', 3_600_000],
    ['M', 60_000],
  ];
  let rest = ms;
  let date = '';
  let time = '';
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count === 0) continue;
    if (unit === 'D') date += `${count}D`;
    else time += `${count}${unit}`;
  }
  if (rest > 0) time += `${rest / 1000}S`;
  if (date === '' && time === '') return 'PT0S';
  return `P${date}${time === '' ? '' : `T${time}`}`;
}

function checkRule(rule: RetentionRule, nowMs: number): void {
  const { minAgeMs, keepLatest } = rule;
  if (minAgeMs !== undefined && !(Number.isFinite(minAgeMs) && minAgeMs >= 0)) {
    throw new RangeError('retention minAgeMs must be a finite number >= 0');
  }
  if (keepLatest !== undefined && !(Number.isInteger(keepLatest) && keepLatest >= 0)) {
    throw new RangeError('retention keepLatest must be an integer >= 0');
  }
  if (!Number.isFinite(nowMs)) throw new RangeError('retention nowMs must be a finite number');
}

/** Epoch ms of an ISO timestamp, or undefined when it is missing or unparsable. */
function timeOf(text: string | null | undefined): number | undefined {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

interface Ranked {
  point: RestorePointFacts;
  timeMs: number | undefined;
}

/** Newest first; unparsable times count as newest; ties by id. */
function byNewest(a: Ranked, b: Ranked): number {
  const at = a.timeMs ?? Infinity;
  const bt = b.timeMs ?? Infinity;
  if (at !== bt) return bt - at;
  if (a.point.id === b.point.id) return 0;
  return a.point.id < b.point.id ? -1 : 1;
}

/** Decides every ManualSnapshot point of one VM (others are ignored, not returned). */
export function decideRetention(
  points: readonly RestorePointFacts[],
  rule: RetentionRule,
  nowMs: number,
): PointDecision[] {
  checkRule(rule, nowMs);
  const keepLatest = rule.keepLatest ?? 0;
  const minAgeText = rule.minAgeText ?? (rule.minAgeMs === undefined ? '' : isoDuration(rule.minAgeMs));
  const ranked: Ranked[] = points
    .filter((point) => point.backupDestination === MANUAL)
    .map((point) => ({ point, timeMs: timeOf(point.pointInTime) }))
    .sort(byNewest);

  return ranked.map(({ point, timeMs }, rank): PointDecision => {
    const decision = (action: PointAction, reason?: string): PointDecision => ({
      id: point.id,
      ...(typeof point.pointInTime === 'string' ? { pointInTime: point.pointInTime } : {}),
      action,
      ...(reason === undefined ? {} : { reason }),
    });
    const immutableMs = timeOf(point.immutableTill);
    if (immutableMs !== undefined && immutableMs > nowMs) {
      return decision('immutable', `immutable until ${new Date(immutableMs).toISOString()}`);
    }
    // An immutability date that cannot be read might be in the future: never delete on a guess.
    if (immutableMs === undefined && typeof point.immutableTill === 'string' && point.immutableTill !== '') {
      return decision('keep', 'immutableTill unreadable');
    }
    if (timeMs === undefined) return decision('keep', 'pointInTime missing or unreadable');
    if (rule.minAgeMs !== undefined && nowMs - timeMs < rule.minAgeMs) {
      return decision('keep', `younger than ${minAgeText}`);
    }
    if (rank < keepLatest) return decision('keep', `among the ${keepLatest} newest`);
    return decision('delete');
  });
}
