import { computeTotals, type Report, type VmResult } from '../../shared/report';

/** A finished v8.1 report around `results`, for tests that store or print one. */
export function reportWith(results: VmResult[], overrides: Partial<Report> = {}): Report {
  return {
    runId: 'run-1',
    trigger: 'timer',
    apiVersion: 'v8.1',
    dryRun: false,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:10:00.000Z',
    durationMs: 600_000,
    duplicatesRemoved: 0,
    totals: computeTotals(results),
    results,
    appliances: [
      {
        name: 'default',
        origin: 'https://veeam.example.com',
        apiVersion: 'v8.1',
        totals: computeTotals(results),
      },
    ],
    ...overrides,
  };
}
