/** Splits the simulator's per-route request counters into what the benchmark reports per VM. */
import type { SimulatorCounters } from '../dev/simulator/types';

export interface RequestSplit {
  /** VM, restore-point and deletion-session listings. */
  list: number;
  delete: number;
  poll: number;
  auth: number;
  other: number;
  total: number;
}

const KIND_OF_ROUTE: Record<string, Exclude<keyof RequestSplit, 'total'>> = {
  'v1.deleteSnapshots': 'delete',
  'v8.1.deleteManualSnapshots': 'delete',
  'v8.1.batchDeleteManualSnapshots': 'delete',
  'v8.1.deleteRestorePoint': 'delete',
  'v8.1.restorePoints': 'list',
  'v8.1.listVms': 'list',
  'v1.getSession': 'poll',
  'v8.1.getSession': 'poll',
  'v8.1.listSessions': 'poll',
  'v1.getSessionLog': 'poll',
  'v8.1.getSessionLog': 'poll',
  token: 'auth',
  'token.delete': 'auth',
  'v8.1.serviceIsUp': 'auth',
  'v8.1.about': 'auth',
};

export function splitRequests(counters: Pick<SimulatorCounters, 'requestsByRoute'>): RequestSplit {
  const split: RequestSplit = { list: 0, delete: 0, poll: 0, auth: 0, other: 0, total: 0 };
  for (const [route, count] of Object.entries(counters.requestsByRoute)) {
    split[KIND_OF_ROUTE[route] ?? 'other'] += count;
    split.total += count;
  }
  return split;
}

export function perVm(split: RequestSplit, vmCount: number): RequestSplit {
  const per = (n: number) => n / vmCount;
  return {
    list: per(split.list),
    delete: per(split.delete),
    poll: per(split.poll),
    auth: per(split.auth),
    other: per(split.other),
    total: per(split.total),
  };
}
