/**
 * Session logs: the one parse of a log body, the entries a report keeps, and the per-VM view of a batch
 * session (v8.1 log items name their VM in resourceHashId).
 */
import type { LogEntry } from '../report';
import type { TerminalSessionStatus } from './types';
import { parseWire, sessionLogSchema, type LogItem } from './wire';

export type { LogItem } from './wire';

/** Log entries a result or report keeps: the last ones, which say how the session ended. */
export const LOG_ENTRIES_KEPT = 20;

export function parseSessionLog(body: unknown, route: string): LogItem[] {
  return parseWire(sessionLogSchema, body, route);
}

/** The last LOG_ENTRIES_KEPT items as report entries. */
export function lastEntries(items: readonly LogItem[]): LogEntry[] {
  return items.slice(-LOG_ENTRIES_KEPT).map((item) => ({
    time: item.logTime ?? '',
    status: item.status ?? '',
    message: item.message ?? '',
  }));
}

/** The items about one VM. */
export function itemsForVm(items: readonly LogItem[], vmId: string): LogItem[] {
  return items.filter((item) => item.resourceHashId === vmId);
}

/** True when no item names a VM (v1 logs) or one of them names `vmId`. */
export function mayConcernVm(items: readonly LogItem[], vmId: string): boolean {
  const named = items.filter((item) => item.resourceHashId);
  return named.length === 0 || named.some((item) => item.resourceHashId === vmId);
}

/** In a batch session one VM can succeed while the session as a whole ends Warning or Error. */
export function vmStatus(
  vmItems: readonly LogItem[],
  sessionStatus: TerminalSessionStatus,
): TerminalSessionStatus {
  if (vmItems.length === 0) return sessionStatus;
  const statuses = new Set(vmItems.map((i) => i.status));
  if (statuses.has('Error')) return 'Error';
  if (statuses.has('Warning')) return 'Warning';
  return 'Success';
}
