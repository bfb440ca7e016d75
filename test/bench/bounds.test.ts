import { parseBenchArgs } from '../../bench/args';
import { submissionBoundMs } from '../../bench/scenario';
import { buildScenarios } from '../../bench/scenarios';
import { medianRun } from '../../bench/repeat';
import type { ScenarioResult } from '../../bench/scenario';

describe('the bound with the submission phase', () => {
  const fleet = (...ms: number[]) => ms.map((sessionDurationMs, i) => ({ id: `vm${i}`, sessionDurationMs }));

  it('is the longest session plus one round trip when every delete goes out in the first wave', () => {
    expect(submissionBoundMs(fleet(10, 5), 3, 2)).toBe(13);
  });

  it('counts the round trips a late delete waits for its slot', () => {
    // The third delete goes out one round trip late: 3 + 20, plus the round trip that sees it end.
    expect(submissionBoundMs(fleet(10, 5, 20), 3, 2)).toBe(26);
    expect(submissionBoundMs(fleet(10, 5, 1), 3, 2)).toBe(13);
  });
});

describe('--repeat', () => {
  const run = (efficiency: number) => ({ efficiency }) as ScenarioResult;

  it('shows the run with the median efficiency (the lower one of an even count)', () => {
    expect(medianRun([run(0.9), run(0.7), run(0.8)]).efficiency).toBe(0.8);
    expect(medianRun([run(0.9), run(0.7), run(0.8), run(0.95)]).efficiency).toBe(0.8);
    expect(medianRun([run(0.5)]).efficiency).toBe(0.5);
  });
});

describe('the scenarios a command line selects', () => {
  const names = (argv: string[]) => buildScenarios(parseBenchArgs(argv)).map((s) => s.name);

  it('runs cap64 only at 300 VMs in the default suite: at 3,000 it would take a quarter of an hour', () => {
    const all = names([]);
    expect(all.filter((n) => n.startsWith('cap64'))).toEqual([
      'cap64 · 300 · clean',
      'cap64 · 300 · 503/429',
    ]);
    expect(all.filter((n) => n.startsWith('v1'))).toHaveLength(6);
  });

  it('runs every size of cap64 that --only and --sizes ask for', () => {
    expect(names(['--only', 'cap64', '--sizes', '300,3000', '--faults', 'clean'])).toEqual([
      'cap64 · 300 · clean',
      'cap64 · 3000 · clean',
    ]);
  });
});
