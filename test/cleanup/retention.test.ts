import { decideRetention, isoDuration, type RestorePointFacts } from '../../shared/cleanup/retention';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;

const at = (msAgo: number): string => new Date(NOW - msAgo).toISOString();
const manual = (id: string, msAgo: number, extra: Partial<RestorePointFacts> = {}): RestorePointFacts => ({
  id,
  pointInTime: at(msAgo),
  backupDestination: 'ManualSnapshot',
  ...extra,
});
const actions = (decisions: ReturnType<typeof decideRetention>) =>
  Object.fromEntries(decisions.map((d) => [d.id, d.action]));

describe('decideRetention', () => {
  it('deletes a point exactly minAge old and keeps one 1 ms younger', () => {
    const decisions = decideRetention(
      [manual('old-enough', WEEK), manual('just-young', WEEK - 1)],
      { minAgeMs: WEEK, minAgeText: 'P7D' },
      NOW,
    );
    expect(decisions).toEqual([
      { id: 'just-young', pointInTime: at(WEEK - 1), action: 'keep', reason: 'younger than P7D' },
      { id: 'old-enough', pointInTime: at(WEEK), action: 'delete' },
    ]);
  });

  it('writes minAgeMs as an ISO duration when no text is given', () => {
    const [decision] = decideRetention([manual('a', HOUR)], { minAgeMs: 36 * HOUR }, NOW);
    expect(decision.reason).toBe('younger than P1DT12H');
    expect(isoDuration(WEEK)).toBe('P7D');
    expect(isoDuration(90 * 60_000 + 500)).toBe('PT1H30M0.5S');
    expect(isoDuration(0)).toBe('PT0S');
  });

  it('keeps the keepLatest newest and deletes the rest, newest first in the output', () => {
    const decisions = decideRetention(
      [manual('d3', 3 * DAY), manual('d1', DAY), manual('d5', 5 * DAY), manual('d2', 2 * DAY)],
      { keepLatest: 2 },
      NOW,
    );
    expect(decisions.map((d) => [d.id, d.action, d.reason])).toEqual([
      ['d1', 'keep', 'among the 2 newest'],
      ['d2', 'keep', 'among the 2 newest'],
      ['d3', 'delete', undefined],
      ['d5', 'delete', undefined],
    ]);
  });

  it('breaks pointInTime ties by id, whatever the input order', () => {
    const same = DAY;
    const points = [manual('b', same), manual('c', same), manual('a', same)];
    for (const input of [points, [...points].reverse()]) {
      const decisions = decideRetention(input, { keepLatest: 1 }, NOW);
      expect(decisions.map((d) => [d.id, d.action])).toEqual([
        ['a', 'keep'],
        ['b', 'delete'],
        ['c', 'delete'],
      ]);
    }
  });

  it('keeps everything when keepLatest exceeds the count', () => {
    const decisions = decideRetention([manual('a', 40 * DAY), manual('b', 90 * DAY)], { keepLatest: 5 }, NOW);
    expect(decisions.map((d) => [d.action, d.reason])).toEqual([
      ['keep', 'among the 5 newest'],
      ['keep', 'among the 5 newest'],
    ]);
  });

  it('deletes every manual point with keepLatest 0 and no minimum age', () => {
    const decisions = decideRetention([manual('a', HOUR), manual('b', 0)], { keepLatest: 0 }, NOW);
    expect(actions(decisions)).toEqual({ a: 'delete', b: 'delete' });
    expect(actions(decideRetention([manual('c', HOUR)], {}, NOW))).toEqual({ c: 'delete' });
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
    ['garbage', 'yesterday-ish'],
  ])('never deletes a point whose pointInTime is %s, and ranks it as newest', (_name, pointInTime) => {
    const odd: RestorePointFacts = { id: 'odd', pointInTime, backupDestination: 'ManualSnapshot' };
    const decisions = decideRetention([manual('old', 90 * DAY), odd], { keepLatest: 1 }, NOW);
    expect(decisions[0]).toMatchObject({
      id: 'odd',
      action: 'keep',
      reason: 'pointInTime missing or unreadable',
    });
    expect(decisions[1]).toMatchObject({ id: 'old', action: 'delete' });
    expect(decideRetention([odd], { minAgeMs: 0 }, NOW)[0].action).toBe('keep');
  });

  it('marks a point immutable until a future date, and ignores an immutability that has passed', () => {
    const future = new Date(NOW + DAY).toISOString();
    const decisions = decideRetention(
      [
        manual('locked-in', 90 * DAY, { immutableTill: future }),
        manual('expired', 90 * DAY, { immutableTill: at(1) }),
        manual('unreadable', 90 * DAY, { immutableTill: 'soon' }),
        manual('boundary', 90 * DAY, { immutableTill: at(0) }),
      ],
      { minAgeMs: WEEK },
      NOW,
    );
    expect(decisions.find((d) => d.id === 'locked-in')).toMatchObject({
      action: 'immutable',
      reason: `immutable until ${future}`,
    });
    expect(actions(decisions)).toEqual({
      'locked-in': 'immutable',
      expired: 'delete',
      unreadable: 'keep',
      boundary: 'delete',
    });
  });

  it('ignores non-manual points and does not return them', () => {
    const decisions = decideRetention(
      [
        { id: 'snap', pointInTime: at(90 * DAY), backupDestination: 'Snapshot' },
        { id: 'blob', pointInTime: at(90 * DAY), backupDestination: 'AzureBlob' },
        { id: 'none', pointInTime: at(90 * DAY) },
        manual('m', 90 * DAY),
      ],
      { keepLatest: 0 },
      NOW,
    );
    expect(decisions.map((d) => d.id)).toEqual(['m']);
  });

  it('combines both rules: deletes only points old enough AND outside the newest, immutable ones ranked too', () => {
    const decisions = decideRetention(
      [
        manual('h1', HOUR),
        manual('imm', 10 * DAY, { immutableTill: new Date(NOW + WEEK).toISOString() }),
        manual('d20', 20 * DAY),
        manual('d60', 60 * DAY),
        manual('d3', 3 * DAY),
      ],
      { minAgeMs: WEEK, minAgeText: 'P7D', keepLatest: 3 },
      NOW,
    );
    expect(decisions.map((d) => [d.id, d.action, d.reason])).toEqual([
      ['h1', 'keep', 'younger than P7D'],
      ['d3', 'keep', 'younger than P7D'],
      ['imm', 'immutable', `immutable until ${new Date(NOW + WEEK).toISOString()}`],
      ['d20', 'delete', undefined],
      ['d60', 'delete', undefined],
    ]);
    const tighter = decideRetention(
      [manual('d20', 20 * DAY), manual('d60', 60 * DAY), manual('d3', 3 * DAY)],
      { minAgeMs: WEEK, keepLatest: 2 },
      NOW,
    );
    expect(actions(tighter)).toEqual({ d3: 'keep', d20: 'keep', d60: 'delete' });
    expect(tighter.find((d) => d.id === 'd20')?.reason).toBe('among the 2 newest');
  });

  it('rejects a rule that cannot be meant', () => {
    expect(() => decideRetention([], { keepLatest: -1 }, NOW)).toThrow(/keepLatest/);
    expect(() => decideRetention([], { keepLatest: 1.5 }, NOW)).toThrow(/keepLatest/);
    expect(() => decideRetention([], { minAgeMs: Number.NaN }, NOW)).toThrow(/minAgeMs/);
    expect(() => decideRetention([], {}, Number.NaN)).toThrow(/nowMs/);
  });
});
