import { ConfigError, parseDuration } from '../../shared/config';

describe('parseDuration', () => {
  it.each([
    ['PT30M', 30 * 60_000],
    ['PT1H30M', 90 * 60_000],
    ['P1DT2H', 26 * 3_600_000],
    ['PT0.5S', 500],
    ['P1D', 86_400_000],
    ['pt45s', 45_000],
    ['1800', 1_800_000],
    [' 2.5 ', 2_500],
  ])('reads %s as %d ms', (raw, ms) => {
    expect(parseDuration(raw, 'CLEANUP_MAX_SESSION_WAIT')).toBe(ms);
  });

  it.each(['30m', 'P', 'PT', 'P1DT', 'P1W', 'P1M', 'PT-5S', '-5', '1e3', '', 'half an hour', 'PT1H PT1M'])(
    'rejects %j, naming the setting',
    (raw) => {
      const attempt = () => parseDuration(raw, 'CLEANUP_TIME_BUDGET');
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(/^CLEANUP_TIME_BUDGET: must be an ISO-8601 duration/);
    },
  );

  it('does not echo the value', () => {
    const canary = 'PT5M-canary-7731';
    expect(() => parseDuration(canary, 'CLEANUP_TIME_BUDGET')).toThrow(ConfigError);
    expect(() => parseDuration(canary, 'CLEANUP_TIME_BUDGET')).not.toThrow('canary-7731');
  });

  it.each(['0', 'PT0S', 'P0D', '0.0001'])('rejects %j as not greater than zero', (raw) => {
    expect(() => parseDuration(raw, 'CLEANUP_MAX_SESSION_WAIT')).toThrow(
      'CLEANUP_MAX_SESSION_WAIT: must be greater than zero',
    );
  });

  it('rejects a duration too large to represent in milliseconds', () => {
    expect(() => parseDuration('9'.repeat(20), 'CLEANUP_MAX_SESSION_WAIT')).toThrow(
      'CLEANUP_MAX_SESSION_WAIT: is too large',
    );
  });
});
