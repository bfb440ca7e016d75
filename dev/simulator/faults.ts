/**
 * Fault rules and the decisions they produce for one request. Rules are evaluated in three stages so a
 * rule is only spent when it can take effect: before the request is handled (latency, status, drop
 * before), while it is handled (foreign links, stuck sessions, vanished points) and after it was handled successfully
 * (drop after, slow, malformed JSON).
 */
import type { Random } from './random';
import type { FaultKind, FaultRule, SimRoute } from './types';

const DEFAULT_FOREIGN_ORIGIN = 'http://foreign.invalid';

export interface PreDecision {
  latencyMs: number;
  status?: { status: 429 | 500 | 502 | 503; retryAfter?: string };
  drop: boolean;
}

/** How a VM listing misbehaves (the listing fault kinds). */
export interface ListingFaults {
  ignoreFilters: boolean;
  ignoreOffset: boolean;
  inflateTotalCount: boolean;
}

export interface HandlingDecision {
  linkOrigin?: string;
  stuck: boolean;
  /** Remove the restore point before handling (it "vanished" since the listing). */
  vanish: boolean;
  listing: ListingFaults;
}

const LISTING_KINDS = new Set<FaultKind>(['ignoreFilters', 'ignoreOffset', 'inflateTotalCount']);
const LISTING_ROUTES = new Set<FaultTarget['route']>(['v1.listVms', 'v8.1.listVms']);

export interface PostDecision {
  drop: boolean;
  slowMs: number;
  malformedJson: boolean;
}

export interface FaultTarget {
  route: SimRoute | 'unknown';
  vmIds: string[];
  restorePointIds: string[];
}

export interface FaultBook {
  add(rule: FaultRule): void;
  clear(): void;
  before(target: FaultTarget): PreDecision;
  during(target: FaultTarget): HandlingDecision;
  after(target: FaultTarget): PostDecision;
}

type Stage = 'before' | 'during' | 'after';

const always = (): boolean => true;

const STAGE_OF_KIND: Record<FaultKind, Stage> = {
  latency: 'before',
  status: 'before',
  drop: 'before',
  foreignSelfLink: 'during',
  stuck: 'during',
  vanish: 'during',
  ignoreFilters: 'during',
  ignoreOffset: 'during',
  inflateTotalCount: 'during',
  slow: 'after',
  malformedJson: 'after',
};

export const FAULT_KINDS = Object.keys(STAGE_OF_KIND) as FaultKind[];

/** Every route name a fault rule can target (the Record makes the compiler check the list is complete). */
export const SIM_ROUTES = Object.keys({
  token: true,
  'token.delete': true,
  'v1.listVms': true,
  'v1.getVm': true,
  'v1.deleteSnapshots': true,
  'v1.getSession': true,
  'v1.getSessionLog': true,
  'v8.1.serviceIsUp': true,
  'v8.1.about': true,
  'v8.1.listVms': true,
  'v8.1.getVm': true,
  'v8.1.deleteManualSnapshots': true,
  'v8.1.batchDeleteManualSnapshots': true,
  'v8.1.restorePoints': true,
  'v8.1.getRestorePoint': true,
  'v8.1.deleteRestorePoint': true,
  'v8.1.listSessions': true,
  'v8.1.getSession': true,
  'v8.1.getSessionLog': true,
} satisfies Record<SimRoute, true>) as SimRoute[];

function stageOf(rule: FaultRule): Stage {
  return rule.kind === 'drop' && rule.phase === 'after' ? 'after' : STAGE_OF_KIND[rule.kind];
}

export function createFaultBook(initial: readonly FaultRule[], random: Random): FaultBook {
  let rules: Array<{ rule: FaultRule; remaining: number }> = [];

  /**
   * Fires the rules of `stage` that match this request, in order: each firing spends one of its `times`
   * and is applied at once, so `wanted` sees the effect of earlier firings.
   */
  const fire = (
    stage: Stage,
    target: FaultTarget,
    wanted: (rule: FaultRule) => boolean,
    apply: (rule: FaultRule) => void,
  ): void => {
    for (const entry of rules) {
      const { rule } = entry;
      if (entry.remaining <= 0 || stageOf(rule) !== stage) continue;
      if (rule.route !== '*' && rule.route !== target.route) continue;
      if (rule.vmId !== undefined && !target.vmIds.includes(rule.vmId)) continue;
      if (rule.restorePointId !== undefined && !target.restorePointIds.includes(rule.restorePointId))
        continue;
      if (!wanted(rule)) continue;
      const probability = rule.probability ?? 1;
      if (probability < 1 && random.next() >= probability) continue;
      entry.remaining--;
      apply(rule);
    }
  };

  const book: FaultBook = {
    add: (rule) => {
      rules.push({ rule, remaining: rule.times ?? Infinity });
    },
    clear: () => {
      rules = [];
    },
    before: (target) => {
      const decision: PreDecision = { latencyMs: 0, drop: false };
      // Only the first refusal (status or drop) can take effect; later ones are left unspent.
      const refused = (): boolean => decision.drop || decision.status !== undefined;
      fire(
        'before',
        target,
        (rule) => rule.kind === 'latency' || !refused(),
        (rule) => {
          if (rule.kind === 'latency') decision.latencyMs += rule.latencyMs ?? 0;
          else if (rule.kind === 'drop') decision.drop = true;
          else decision.status = { status: rule.status ?? 503, retryAfter: rule.retryAfter };
        },
      );
      return decision;
    },
    during: (target) => {
      const decision: HandlingDecision = {
        stuck: false,
        vanish: false,
        listing: { ignoreFilters: false, ignoreOffset: false, inflateTotalCount: false },
      };
      // A vanish or listing rule on '*' waits for its own routes instead of being spent on other routes.
      const applies = (rule: FaultRule): boolean =>
        rule.kind === 'vanish'
          ? target.route === 'v8.1.deleteRestorePoint'
          : !LISTING_KINDS.has(rule.kind) || LISTING_ROUTES.has(target.route);
      fire('during', target, applies, (rule) => {
        if (rule.kind === 'stuck') decision.stuck = true;
        else if (rule.kind === 'vanish') decision.vanish = true;
        else if (rule.kind === 'foreignSelfLink') {
          decision.linkOrigin ??= (rule.foreignOrigin ?? DEFAULT_FOREIGN_ORIGIN).replace(/\/+$/, '');
        } else decision.listing[rule.kind as keyof ListingFaults] = true;
      });
      return decision;
    },
    after: (target) => {
      const decision: PostDecision = { drop: false, slowMs: 0, malformedJson: false };
      fire('after', target, always, (rule) => {
        if (rule.kind === 'drop') decision.drop = true;
        else if (rule.kind === 'slow') decision.slowMs += rule.delayMs ?? 0;
        else decision.malformedJson = true;
      });
      return decision;
    },
  };
  initial.forEach(book.add);
  return book;
}
