/** JobStatus values (veeam-api-notes §4.3): which end a session, and which mean it is still under way. */
import type { TerminalSessionStatus } from './types';

const TERMINAL: ReadonlySet<string> = new Set<TerminalSessionStatus>([
  'Success',
  'Warning',
  'Error',
  'Canceled',
  'NeverExecuted',
]);

/** Every status a session can have before it ends; the Status filter of "still running" listings. */
export const ACTIVE_STATUSES: readonly string[] = [
  'Running',
  'Pending',
  'RunningWithWarning',
  'RunningWithError',
  'Canceling',
];

export function isTerminalStatus(status: string): status is TerminalSessionStatus {
  return TERMINAL.has(status);
}

export function isActiveStatus(status: string): boolean {
  return ACTIVE_STATUSES.includes(status);
}
