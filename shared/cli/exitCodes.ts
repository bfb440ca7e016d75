import { isCleanOutcome, type Report } from '../report';

export const EXIT_OK = 0;
/** Some target failed, timed out, was skipped or rejected, or some appliance could not be used. */
export const EXIT_INCOMPLETE = 1;
/** Usage or configuration error; nothing was attempted. */
export const EXIT_USAGE = 2;
/** The appliance (every appliance of the run) could not be reached or refused the login; nothing was deleted. */
export const EXIT_APPLIANCE = 3;
/** Another cleanup run holds the lease; nothing was attempted. */
export const EXIT_BUSY = 4;
/** The run finished (it may have deleted) but its report could not be written to stdout. */
export const EXIT_OUTPUT = 5;

export function exitCodeFor(report: Report): number {
  if (report.failure) return EXIT_APPLIANCE;
  // An appliance that discovers its targets has none to report Skipped when it is down: its failure counts.
  if (report.appliances.some((a) => a.failure)) return EXIT_INCOMPLETE;
  return report.results.every((r) => isCleanOutcome(r.outcome)) ? EXIT_OK : EXIT_INCOMPLETE;
}
