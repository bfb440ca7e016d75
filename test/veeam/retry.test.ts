import { VeeamApiError, VeeamNetworkError } from '../../shared/veeam/errors';
import {
  RETRY_DEFAULTS,
  defaultStrategies,
  isCertainlyNotProcessed,
  nextRetryDelayMs,
  parseRetryAfterMs,
  withRetry,
} from '../../shared/veeam/retry';

const options = { maxRetries: 4, baseDelayMs: 100, maxDelayMs: 1000, maxRetryTimeMs: 5000 };
const api = (status: number, retryAfterMs?: number) =>
  new VeeamApiError(status, 'GET', '/api/v1/x', {}, retryAfterMs);
const net = (code: string, notSent: boolean) => new VeeamNetworkError(code, 'GET', '/api/v1/x', notSent);

function decide(error: unknown, retryCount: number, random = () => 1, elapsedMs = 0) {
  return nextRetryDelayMs(defaultStrategies(options, random), { error, retryCount, elapsedMs }, options);
}

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2024-05-01T10:00:00Z');
  it('reads seconds', () => expect(parseRetryAfterMs('3', now)).toBe(3000));
  it('reads an HTTP-date', () => expect(parseRetryAfterMs('Wed, 01 May 2024 10:00:07 GMT', now)).toBe(7000));
  it('turns a past date into 0', () =>
    expect(parseRetryAfterMs('Wed, 01 May 2024 09:00:00 GMT', now)).toBe(0));
  it('ignores garbage and absence', () => {
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });
});

describe('retry strategies', () => {
  it('exponential full jitter: random × min(max, base·2^n)', () => {
    expect(decide(api(502), 0, () => 0.5)).toEqual({ delayMs: 50, strategy: 'exponential' });
    expect(decide(api(504), 2, () => 0.5)).toEqual({ delayMs: 200, strategy: 'exponential' });
    expect(decide(net('ECONNRESET', false), 3, () => 0.25)).toEqual({
      delayMs: 200,
      strategy: 'exponential',
    });
    // capped at maxDelayMs before the jitter
    expect(decide(api(503), 4 - 1, () => 0.999)?.delayMs).toBeLessThanOrEqual(800);
    expect(decide(api(502), 0, () => 0)).toEqual({ delayMs: 0, strategy: 'exponential' });
  });

  it('throttling honours Retry-After on 429 and 503, capped at maxDelayMs', () => {
    expect(decide(api(429, 700), 0, () => 0)).toEqual({ delayMs: 700, strategy: 'throttling' });
    expect(decide(api(503, 0), 0, () => 0.9)).toEqual({ delayMs: 0, strategy: 'throttling' });
    expect(decide(api(429, 60_000), 0)).toEqual({ delayMs: 1000, strategy: 'throttling' });
  });

  it('429 without Retry-After falls back to the backoff', () => {
    expect(decide(api(429), 1, () => 0.5)).toEqual({ delayMs: 100, strategy: 'exponential' });
  });

  it('never retries 400, 401, 403, 404 or 500', () => {
    for (const status of [400, 401, 403, 404, 500]) expect(decide(api(status), 0)).toBeUndefined();
    expect(decide(new Error('bug'), 0)).toBeUndefined();
  });

  it('stops after maxRetries and when the total time would be exceeded', () => {
    expect(decide(api(502), 4)).toBeUndefined();
    expect(decide(api(429, 900), 0, () => 1, 4200)).toBeUndefined();
    expect(decide(api(429, 900), 0, () => 1, 4000)).toEqual({ delayMs: 900, strategy: 'throttling' });
  });

  it('a delete may be resent only when the appliance certainly did not act', () => {
    expect(isCertainlyNotProcessed(net('ECONNREFUSED', true))).toBe(true);
    expect(isCertainlyNotProcessed(api(429))).toBe(true);
    expect(isCertainlyNotProcessed(api(503))).toBe(true);
    expect(isCertainlyNotProcessed(net('ECONNRESET', false))).toBe(false);
    expect(isCertainlyNotProcessed(net('ETIMEDOUT', false))).toBe(false);
    expect(isCertainlyNotProcessed(api(502))).toBe(false);
    expect(isCertainlyNotProcessed(api(504))).toBe(false);
  });
});

describe('withRetry', () => {
  function runtime() {
    let clock = 0;
    const sleeps: number[] = [];
    return {
      sleeps,
      runtime: {
        now: () => clock,
        random: () => 0.5,
        sleep: async (ms: number) => {
          sleeps.push(ms);
          clock += ms;
        },
      },
    };
  }

  it('sleeps the computed delays and returns the first success', async () => {
    const { sleeps, runtime: rt } = runtime();
    const errors = [api(503, 300), api(502), net('ECONNRESET', false)];
    const result = await withRetry(
      async () => {
        const next = errors.shift();
        if (next) throw next;
        return 'ok';
      },
      { options, runtime: rt },
    );
    expect(result).toBe('ok');
    expect(sleeps).toEqual([300, 100, 200]);
  });

  it('rethrows the last error after maxRetries', async () => {
    const { sleeps, runtime: rt } = runtime();
    let calls = 0;
    const failing = withRetry(
      async () => {
        calls++;
        throw api(504);
      },
      { options, runtime: rt },
    );
    await expect(failing).rejects.toMatchObject({ status: 504 });
    expect(calls).toBe(5);
    expect(sleeps).toHaveLength(4);
  });

  it('does not retry when canRetry says no (a delete after a reset)', async () => {
    const { sleeps, runtime: rt } = runtime();
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw net('ECONNRESET', false);
        },
        { options, runtime: rt, canRetry: isCertainlyNotProcessed },
      ),
    ).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('has documented defaults', () => {
    expect(RETRY_DEFAULTS).toEqual({
      maxRetries: 4,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      maxRetryTimeMs: 120_000,
    });
  });
});
