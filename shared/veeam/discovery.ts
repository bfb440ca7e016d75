/**
 * Discovery: the VMs an appliance lists that match a policy's `discover` filter. v8.1 filters on the
 * appliance, one paged listing per subscription; every filter is applied again to what came back, so an
 * appliance that ignores one can never widen the target set. v1 has no filters: the client-side check is
 * the only one there, and v1 cannot tell which VMs have manual snapshots, so it lists every VM.
 * Deleted VMs and the controller are returned; the engine decides what to do with them.
 */
import type { DiscoveryFilter } from '../config/types';
import type { ApiProfile } from './api';
import { VeeamListingLimitError } from './errors';
import type { GuardedSend } from './retry';
import type { ListVirtualMachinesOptions, VirtualMachineInfo } from './types';
import { parseWire, virtualMachinePageSchema } from './wire';

export const DISCOVERY_DEFAULTS = {
  pageSize: 100,
  /** Over 30 times what one appliance is sized for (3,000 workloads): beyond it a listing is runaway. */
  maxVms: 100_000,
} as const;

export interface DiscoveryDeps {
  profile: ApiProfile;
  send: GuardedSend;
  /** Stop with VeeamListingLimitError beyond this many distinct VMs (default DISCOVERY_DEFAULTS.maxVms). */
  maxVms?: number;
  /** Told when a v8.1 appliance returned VMs outside the filter (they are dropped, never targets). */
  onWarning?: (message: string) => void;
}

/** Query parameters in order; a name may repeat (arrays are form/explode: RegionIds=a&RegionIds=b). */
type Query = ReadonlyArray<readonly [string, string]>;

interface Wanted {
  subscriptionIds: string[];
  regions: string[];
  nameContains?: string;
}

export async function listVirtualMachines(
  deps: DiscoveryDeps,
  options: ListVirtualMachinesOptions = {},
): Promise<VirtualMachineInfo[]> {
  const { manualSnapshotsOnly = true, pageSize = DISCOVERY_DEFAULTS.pageSize, abortSignal } = options;
  if (!Number.isInteger(pageSize) || pageSize < 1) {
    throw new RangeError('listVirtualMachines: pageSize must be a positive integer');
  }
  const wanted = normalise(options.filter);
  const queries = deps.profile.vmListFilters ? filterQueries(wanted, manualSnapshotsOnly) : [[]];
  const found = new Map<string, VirtualMachineInfo>();
  for (const query of queries) {
    await listInto(found, deps, { query, pageSize, abortSignal });
  }
  const listed = [...found.values()];
  const kept = listed.filter(matcher(wanted));
  const dropped = listed.length - kept.length;
  if (deps.profile.vmListFilters && dropped > 0) {
    deps.onWarning?.(
      `The appliance listed ${dropped} VM(s) outside the discovery filter (it ignored a filter); they are not targets`,
    );
  }
  return kept;
}

/** Pages one listing into `found` (keyed by lower-cased id, first answer wins). */
async function listInto(
  found: Map<string, VirtualMachineInfo>,
  { profile, send, maxVms = DISCOVERY_DEFAULTS.maxVms }: DiscoveryDeps,
  { query, pageSize, abortSignal }: { query: Query; pageSize: number; abortSignal?: AbortSignal },
): Promise<void> {
  const route = profile.vmListPath;
  // Per listing: with SubscriptionId ignored, every listing legitimately returns the same VMs again.
  const seen = new Set<string>();
  for (let offset = 0; ;) {
    abortSignal?.throwIfAborted();
    const paged: Query = [
      ...query,
      [profile.pageParams.offset, String(offset)],
      [profile.pageParams.limit, String(pageSize)],
    ];
    const { body } = await send(
      { method: 'GET', path: `${route}?${queryString(paged)}`, route, kind: 'list', abortSignal },
      {},
    );
    const page = parseWire(virtualMachinePageSchema, body, route);
    let fresh = 0;
    for (const vm of page.results) {
      const key = vm.id.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      fresh += 1;
      if (!found.has(key)) found.set(key, vm);
    }
    if (found.size > maxVms) {
      throw new VeeamListingLimitError(route, 'tooManyVms', `it returned more than ${maxVms} VMs`);
    }
    if (page.results.length === 0) return;
    if (fresh === 0) {
      throw new VeeamListingLimitError(
        route,
        'notAdvancing',
        `the page at offset ${offset} repeated VMs already listed (the appliance ignores the offset)`,
      );
    }
    offset += page.results.length;
    // Without a totalCount only a short page says it was the last.
    const done = page.totalCount === undefined ? page.results.length < pageSize : offset >= page.totalCount;
    if (done) return;
  }
}

/** The filter without empty parts, subscriptions once each (ids compare case-insensitively). */
function normalise(filter: DiscoveryFilter = {}): Wanted {
  const unique = (values: readonly string[] = []) => {
    const byKey = new Map<string, string>();
    for (const value of values) if (value !== '') byKey.set(value.toLowerCase(), value);
    return [...byKey.values()];
  };
  return {
    subscriptionIds: unique(filter.subscriptionIds),
    regions: unique(filter.regions),
    nameContains: filter.nameContains || undefined,
  };
}

/** v8.1: one query per subscription (none given: one query for every subscription). */
function filterQueries(wanted: Wanted, manualSnapshotsOnly: boolean): Query[] {
  const subscriptions = wanted.subscriptionIds.length > 0 ? wanted.subscriptionIds : [undefined];
  return subscriptions.map((subscriptionId) => {
    const query: Array<[string, string]> = [];
    if (manualSnapshotsOnly) query.push(['BackupDestination', 'ManualSnapshot']);
    // The default is undocumented; deleted VMs' leftover manual snapshots are prime targets.
    query.push(['ExistsState', 'All']);
    if (subscriptionId !== undefined) query.push(['SubscriptionId', subscriptionId]);
    for (const region of wanted.regions) query.push(['RegionIds', region]);
    if (wanted.nameContains !== undefined) query.push(['SearchPattern', wanted.nameContains]);
    return query;
  });
}

/** Percent-encoded: a space is %20, as + means a space only to form decoders. */
function queryString(query: Query): string {
  return query.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&');
}

/** The filter as the client applies it: a VM missing a field the filter names does not match. */
function matcher(wanted: Wanted): (vm: VirtualMachineInfo) => boolean {
  const lower = (values: string[]) => new Set(values.map((v) => v.toLowerCase()));
  const subscriptions = lower(wanted.subscriptionIds);
  const regions = lower(wanted.regions);
  const name = wanted.nameContains?.toLowerCase();
  const within = (set: Set<string>, value: string | undefined) =>
    set.size === 0 || (value !== undefined && set.has(value.toLowerCase()));
  return (vm) =>
    within(subscriptions, vm.subscriptionId) &&
    within(regions, vm.regionName) &&
    (name === undefined || (vm.name?.toLowerCase().includes(name) ?? false));
}
