import type { ApplianceConfig } from '../config';
import type { VeeamClient, VirtualMachineInfo } from '../veeam/types';
import { compileExclusions, needsVmDetails } from './exclusions';
import type { TargetResult } from './types';

/** The targets of one appliance once it is connected: what to work on, and what ends without a request. */
export interface SelectedTargets {
  /** In listing or configuration order, each id in the appliance's spelling. */
  open: string[];
  /** Excluded by a rule, or requested but not among the VMs the appliance discovers. */
  settled: TargetResult[];
}

export interface SelectTargetsOptions {
  appliance: ApplianceConfig;
  client: VeeamClient;
  /** The run is restricted to these ids of this appliance (HTTP vmIds, a recorded request). */
  requested?: readonly string[];
  abortSignal: AbortSignal;
}

const key = (vmId: string) => vmId.toLowerCase();

/**
 * Turns the appliance's target source into targets: its configured ids, or the VMs its listing returns
 * (discovery). Exclusions then take out what a rule names: the controller VM always, ids, name globs and
 * resource groups, the last two read from the VM listing. Throws when a needed listing fails, before anything
 * was sent.
 */
export async function selectTargets(options: SelectTargetsOptions): Promise<SelectedTargets> {
  const { appliance, client, requested, abortSignal } = options;
  const settled: TargetResult[] = [];
  const source = appliance.targets;
  let candidates: string[];
  let details: Map<string, VirtualMachineInfo> | undefined;

  if (source.kind === 'discover') {
    const listed = await client.listVirtualMachines({ filter: source.filter, abortSignal });
    details = new Map(listed.map((vm) => [key(vm.id), vm]));
    candidates = [...details.values()].map((vm) => vm.id);
  } else {
    candidates = requested ? [...requested] : source.targets.ids;
    if (needsVmDetails(appliance.exclude) && candidates.length > 0) {
      // Names and resource groups are only in the listing; every VM, so one without manual snapshots is found too.
      const listed = await client.listVirtualMachines({ manualSnapshotsOnly: false, abortSignal });
      details = new Map(listed.map((vm) => [key(vm.id), vm]));
    }
  }

  if (requested && source.kind === 'discover') {
    const found = new Map(candidates.map((vmId) => [key(vmId), vmId]));
    candidates = [];
    for (const vmId of requested) {
      const match = found.get(key(vmId));
      if (match) candidates.push(match);
      else
        settled.push({
          vmId,
          outcome: 'InvalidId',
          attempts: 0,
          durationMs: 0,
          error: `is not among the VMs that appliance ${appliance.name} discovers`,
        });
    }
  }

  const excludedBy = compileExclusions(appliance.exclude);
  const open: string[] = [];
  for (const vmId of candidates) {
    const rule = excludedBy(details?.get(key(vmId)) ?? { id: vmId });
    if (rule) settled.push({ vmId, outcome: 'Excluded', attempts: 0, durationMs: 0, excludedBy: rule });
    else open.push(vmId);
  }
  return { open, settled };
}
