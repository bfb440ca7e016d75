import type { TargetRef } from '../cleanup/types';
import type { ApplianceConfig, CleanupConfig } from '../config';
import { displayId } from '../displayId';
import { problem, type ProblemResponse } from './problem';

/** What a request's `vmIds` and `appliance` select: the appliances of the run, and its targets if narrowed. */
export interface RequestedTargets {
  appliances: ApplianceConfig[];
  /** Set when the body named vmIds. */
  targets?: TargetRef[];
  /** Set when the body named an appliance. */
  appliance?: string;
}

const SHOWN = 5;
// The rule configured ids follow (shared/config/targets.ts); a discovered id is only known at run time.
const VM_ID = /^[A-Za-z0-9-]{1,128}$/;

/** The first few offending entries, escaped, and how many more there are. */
function listed(entries: readonly string[]): string {
  const shown = entries.slice(0, SHOWN).map((id) => `"${displayId(id)}"`);
  return shown.join(', ') + (entries.length > SHOWN ? ` and ${entries.length - SHOWN} more` : '');
}

/**
 * Resolves the body's `appliance` and `vmIds` against the configuration, which is the allow-list: an admin
 * can narrow a run, never widen it. An id is qualified as `<appliance>/<vmId>`, or bare when exactly one
 * appliance can hold it (its configured list does, or it is the only one that discovers its targets). A
 * discovering appliance's ids are checked against its listing when the run starts.
 */
export function resolveRequestTargets(
  request: { vmIds?: readonly string[]; appliance?: string },
  config: Pick<CleanupConfig, 'appliances'>,
): RequestedTargets | ProblemResponse {
  const byName = new Map(config.appliances.map((a) => [a.name, a]));
  if (request.appliance !== undefined && !byName.has(request.appliance)) {
    return problem(400, `appliance "${displayId(request.appliance)}" is not a configured appliance`, {
      invalidParams: [{ name: 'appliance', reason: 'is not a configured appliance' }],
    });
  }
  const appliances = request.appliance
    ? [byName.get(request.appliance) as ApplianceConfig]
    : config.appliances;
  const scope = request.appliance !== undefined ? { appliance: request.appliance } : {};
  if (!request.vmIds) return { appliances, ...scope };

  const configured = new Map(
    appliances.map((a) => [
      a.name,
      a.targets.kind === 'ids'
        ? new Map(a.targets.targets.ids.map((id) => [id.toLowerCase(), id]))
        : undefined,
    ]),
  );
  const discovering = appliances.filter((a) => a.targets.kind === 'discover');
  const targets = new Map<string, TargetRef>();
  const outside: string[] = [];
  const ambiguous: string[] = [];
  const unknownAppliance: string[] = [];

  for (const entry of request.vmIds) {
    const slash = entry.indexOf('/');
    let found: TargetRef | undefined;
    if (slash >= 0) {
      const name = entry.slice(0, slash);
      const vmId = entry.slice(slash + 1);
      if (!configured.has(name)) {
        unknownAppliance.push(entry);
        continue;
      }
      const ids = configured.get(name);
      const id = ids ? ids.get(vmId.toLowerCase()) : VM_ID.test(vmId) ? vmId : undefined;
      if (id !== undefined) found = { appliance: name, vmId: id };
    } else {
      const holders = [...configured].flatMap(([name, ids]) => {
        const id = ids?.get(entry.toLowerCase());
        return id ? [{ appliance: name, vmId: id }] : [];
      });
      const candidates =
        holders.length > 0 || !VM_ID.test(entry)
          ? holders
          : discovering.map((a) => ({ appliance: a.name, vmId: entry }));
      if (candidates.length > 1) {
        ambiguous.push(entry);
        continue;
      }
      found = candidates[0];
    }
    if (!found) outside.push(entry);
    else targets.set(`${found.appliance}/${found.vmId.toLowerCase()}`, found);
  }

  const problems = [
    ...(unknownAppliance.length > 0
      ? [
          `vmIds name appliances that ${request.appliance ? 'are not in this run' : 'are not configured'}: ${listed(unknownAppliance)}`,
        ]
      : []),
    ...(ambiguous.length > 0
      ? [
          `vmIds are ambiguous (several appliances could hold them; write "<appliance>/<vmId>"): ${listed(ambiguous)}`,
        ]
      : []),
    ...(outside.length > 0 ? [`vmIds must be configured targets; not configured: ${listed(outside)}`] : []),
  ];
  if (problems.length > 0) {
    return problem(400, problems.join('; '), {
      ...(outside.length > 0 ? { notConfigured: outside.slice(0, 100).map(displayId) } : {}),
      ...(ambiguous.length > 0 ? { ambiguous: ambiguous.slice(0, 100).map(displayId) } : {}),
    });
  }
  return { appliances, targets: [...targets.values()], ...scope };
}

export function isProblem(value: RequestedTargets | ProblemResponse): value is ProblemResponse {
  return 'status' in value;
}
