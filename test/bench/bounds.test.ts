import { submissionBoundMs } from '../../bench/scenario';
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
