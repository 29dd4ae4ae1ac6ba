import { describe, expect, it } from 'vitest';
import {
  backoffCapSeconds,
  backoffDelaySeconds,
  decideDelivery,
  describeAttempt,
  isRetryableStatus,
  parseRetryAfter,
  type RetryPolicy,
  type WebhookAttemptResult,
} from '../../lambdas/domain/webhook-delivery-policy';

const NOW = new Date('2026-11-25T01:00:00.000Z');
const POLICY: RetryPolicy = { maxAttempts: 8, backoff: { baseSeconds: 2, maxSeconds: 300 } };
const response = (status: number, extra: { retryAfter?: string; bodyExcerpt?: string } = {}): WebhookAttemptResult => ({
  kind: 'response',
  status,
  ...extra,
});
const decide = (result: WebhookAttemptResult, attempt = 1, random = () => 0.999_999, policy = POLICY) =>
  decideDelivery({ result, attempt, policy, now: NOW, random });

describe('decideDelivery', () => {
  it.each([200, 201, 202, 204, 299])('counts %i as delivered', (status) => {
    expect(decide(response(status))).toEqual({ action: 'delivered', statusCode: status });
  });

  it('counts a 2xx as delivered even at the last attempt', () => {
    expect(decide(response(200), 8)).toEqual({ action: 'delivered', statusCode: 200 });
  });

  it.each([500, 502, 503, 504, 599, 429, 408])('retries %i before the last attempt', (status) => {
    expect(decide(response(status), 1)).toMatchObject({ action: 'retry', statusCode: status, delaySource: 'backoff' });
  });

  it('retries a timeout and a connection error, without a status code', () => {
    expect(decide({ kind: 'timeout', timeoutMs: 5000 })).toEqual({
      action: 'retry',
      delaySeconds: 2,
      delaySource: 'backoff',
      error: 'timeout after 5000 ms',
    });
    expect(decide({ kind: 'network-error', message: 'ECONNREFUSED connect ECONNREFUSED 127.0.0.1:3001' })).toEqual({
      action: 'retry',
      delaySeconds: 2,
      delaySource: 'backoff',
      error: 'connection error: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:3001',
    });
  });

  it.each([400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 451, 499])('dead-letters %i at once, at the first attempt', (status) => {
    expect(decide(response(status, { bodyExcerpt: '{"error":"unknown order"}' }), 1)).toEqual({
      action: 'dead-letter',
      reason: 'rejected',
      statusCode: status,
      error: `HTTP ${status}: {"error":"unknown order"}`,
    });
  });

  it.each([301, 302, 307, 308])('dead-letters a %i redirect (a webhook URL must answer itself)', (status) => {
    expect(decide(response(status))).toMatchObject({ action: 'dead-letter', reason: 'rejected', statusCode: status });
  });

  it('dead-letters a retryable outcome at the last attempt', () => {
    expect(decide(response(503), 8)).toEqual({
      action: 'dead-letter',
      reason: 'attempts-exhausted',
      statusCode: 503,
      error: 'HTTP 503',
    });
    expect(decide({ kind: 'timeout', timeoutMs: 5000 }, 8)).toEqual({
      action: 'dead-letter',
      reason: 'attempts-exhausted',
      error: 'timeout after 5000 ms',
    });
  });

  it('dead-letters beyond the last attempt too (an attempt count the log undercounted never loops)', () => {
    expect(decide(response(500), 12)).toMatchObject({ action: 'dead-letter', reason: 'attempts-exhausted' });
  });

  it('dead-letters at the first failure when one attempt is allowed', () => {
    expect(decide(response(500), 1, undefined, { ...POLICY, maxAttempts: 1 })).toMatchObject({
      action: 'dead-letter',
      reason: 'attempts-exhausted',
    });
  });

  it('retries up to attempt maxAttempts - 1', () => {
    expect(decide(response(500), 7)).toMatchObject({ action: 'retry' });
  });

  describe('backoff', () => {
    it('grows as base * 2^(attempt - 1) when the jitter draws its maximum', () => {
      const delays = [1, 2, 3, 4, 5, 6, 7].map((attempt) => decide(response(503), attempt));

      expect(delays.map((d) => (d.action === 'retry' ? d.delaySeconds : undefined))).toEqual([2, 4, 8, 16, 32, 64, 128]);
    });

    it('is capped at maxSeconds', () => {
      const policy = { maxAttempts: 20, backoff: { baseSeconds: 2, maxSeconds: 300 } };

      expect(decide(response(503), 8, undefined, policy)).toMatchObject({ delaySeconds: 256 });
      expect(decide(response(503), 9, undefined, policy)).toMatchObject({ delaySeconds: 300 });
      expect(decide(response(503), 19, undefined, policy)).toMatchObject({ delaySeconds: 300 });
    });

    it('draws uniformly in whole seconds from 1 to the cap (full jitter)', () => {
      const at = (random: number) => decide(response(503), 4, () => random);

      expect(at(0)).toMatchObject({ delaySeconds: 1 });
      expect(at(0.01)).toMatchObject({ delaySeconds: 1 });
      expect(at(0.5)).toMatchObject({ delaySeconds: 8 });
      expect(at(0.51)).toMatchObject({ delaySeconds: 9 });
      expect(at(0.999)).toMatchObject({ delaySeconds: 16 });
    });
  });

  describe('Retry-After', () => {
    it('overrides the backoff with delta-seconds', () => {
      expect(decide(response(429, { retryAfter: '42' }))).toEqual({
        action: 'retry',
        delaySeconds: 42,
        delaySource: 'retry-after',
        statusCode: 429,
        error: 'HTTP 429',
      });
    });

    it('overrides the backoff with an HTTP date', () => {
      expect(decide(response(503, { retryAfter: 'Wed, 25 Nov 2026 01:01:30 GMT' }))).toMatchObject({
        delaySeconds: 90,
        delaySource: 'retry-after',
      });
    });

    it('is capped at maxSeconds', () => {
      expect(decide(response(503, { retryAfter: '86400' }))).toMatchObject({ delaySeconds: 300, delaySource: 'retry-after' });
    });

    it('waits at least one second for a zero or past Retry-After', () => {
      expect(decide(response(503, { retryAfter: '0' }))).toMatchObject({ delaySeconds: 1, delaySource: 'retry-after' });
      expect(decide(response(503, { retryAfter: 'Wed, 25 Nov 2026 00:00:00 GMT' }))).toMatchObject({ delaySeconds: 1 });
    });

    it('falls back to the backoff when unreadable', () => {
      expect(decide(response(503, { retryAfter: 'soon' }))).toMatchObject({ delaySeconds: 2, delaySource: 'backoff' });
    });

    it('does not keep a message past its last attempt', () => {
      expect(decide(response(429, { retryAfter: '10' }), 8)).toMatchObject({ action: 'dead-letter', reason: 'attempts-exhausted' });
    });

    it('does not make a 4xx retryable', () => {
      expect(decide(response(400, { retryAfter: '10' }))).toMatchObject({ action: 'dead-letter', reason: 'rejected' });
    });
  });
});

describe('isRetryableStatus', () => {
  it('is true for 5xx, 429 and 408 only', () => {
    const retryable = [200, 301, 400, 404, 408, 409, 429, 500, 503].filter(isRetryableStatus);

    expect(retryable).toEqual([408, 429, 500, 503]);
  });
});

describe('backoffCapSeconds / backoffDelaySeconds', () => {
  it('treats attempt 0 like attempt 1', () => {
    expect(backoffCapSeconds(0, { baseSeconds: 3, maxSeconds: 100 })).toBe(3);
  });

  it('stays exact for huge attempt numbers', () => {
    expect(backoffCapSeconds(5000, { baseSeconds: 1, maxSeconds: 43_200 })).toBe(43_200);
  });

  it('never exceeds the cap even if the random source returns 1', () => {
    expect(backoffDelaySeconds(3, { baseSeconds: 2, maxSeconds: 300 }, () => 1)).toBe(8);
  });
});

describe('parseRetryAfter', () => {
  it.each([
    ['120', 120],
    [' 7 ', 7],
    ['0', 0],
    ['Wed, 25 Nov 2026 01:00:10 GMT', 10],
    ['Wed, 25 Nov 2026 00:59:00 GMT', 0],
  ])('reads %j as %i seconds', (value, seconds) => {
    expect(parseRetryAfter(value, NOW)).toBe(seconds);
  });

  it.each([undefined, '', '-5', '1.5', 'tomorrow', '2026-11-25T01:00:10Z', '99999999999999999999'])('ignores %j', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

describe('describeAttempt', () => {
  it('keeps the response excerpt on one line', () => {
    expect(describeAttempt(response(400, { bodyExcerpt: '  bad  ' }))).toBe('HTTP 400: bad');
    expect(describeAttempt(response(500))).toBe('HTTP 500');
  });
});
