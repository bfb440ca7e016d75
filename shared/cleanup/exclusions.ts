/**
 * The `exclude` rules of a policy appliance as one matcher: which rule keeps a VM out of the run, as the
 * text the report shows. The appliance's own VM is always excluded, before any rule is read.
 */
import type { Exclusions } from '../config/types';
import { compileGlob } from '../config/globs';
import { displayId } from '../displayId';

/** What the rules can look at: a listed VM, or a bare configured id (no name or group known). */
export interface ExclusionSubject {
  id: string;
  name?: string;
  resourceGroupName?: string;
  isController?: boolean;
}

/** The rule that excludes the VM, e.g. `exclude.names "sql-*"`; undefined when none does. */
export type ExclusionMatcher = (vm: ExclusionSubject) => string | undefined;

export const CONTROLLER_RULE = 'controller VM';

export function compileExclusions(exclude: Exclusions | undefined): ExclusionMatcher {
  const byValue = (field: keyof Exclusions) =>
    new Map((exclude?.[field] ?? []).map((value) => [value.toLowerCase(), rule(field, value)]));
  const ids = byValue('vmIds');
  const groups = byValue('resourceGroups');
  const names = (exclude?.names ?? []).map((glob) => ({
    pattern: compileGlob(glob),
    text: rule('names', glob),
  }));
  return (vm) => {
    if (vm.isController) return CONTROLLER_RULE;
    const byId = ids.get(vm.id.toLowerCase());
    if (byId) return byId;
    const { name, resourceGroupName } = vm;
    if (name !== undefined) {
      const byName = names.find(({ pattern }) => pattern.test(name));
      if (byName) return byName.text;
    }
    return resourceGroupName === undefined ? undefined : groups.get(resourceGroupName.toLowerCase());
  };
}

/**
 * True when a rule needs the VM's name or resource group: an explicit vmIds target list must then be
 * looked up in the appliance's VM listing before the rules can be applied.
 */
export function needsVmDetails(exclude: Exclusions | undefined): boolean {
  return (exclude?.names?.length ?? 0) > 0 || (exclude?.resourceGroups?.length ?? 0) > 0;
}

function rule(field: keyof Exclusions, value: string): string {
  return `exclude.${field} "${displayId(value)}"`;
}
