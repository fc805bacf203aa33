import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableStatus, nextRetry, parseRetryAfter, type RetryPolicy } from '../../../src/pipeline/index.js';

const policy: RetryPolicy = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 60_000 };
const NOW = Date.parse('2026-11-25T12:00:00Z');

describe('retry policy (pure)', () => {
  it.each([
    [408, true],
    [429, true],
    [500, true],
    [503, true],
    [599, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [410, false],
  ])('HTTP %i retryable: %s', (status, expected) => expect(isRetryableStatus(status)).toBe(expected));

  it('backs off exponentially, capped, with jitter between half and the full delay', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, () => 1))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it.each([
    ['7', 7000],
    ['0', 0],
    [new Date(NOW + 30_000).toUTCString(), 30_000],
    [new Date(NOW - 5_000).toUTCString(), 0],
    ['soon', undefined],
    [null, undefined],
  ])('parses Retry-After %s as %s ms', (value, ms) => expect(parseRetryAfter(value, NOW)).toBe(ms));

  it('honours Retry-After instead of the backoff, and refuses to wait longer than allowed', () => {
    expect(nextRetry({ kind: 'status', status: 429, retryAfter: '7' }, 1, policy, NOW, () => 0)).toEqual({ retry: true, delayMs: 7000 });
    expect(nextRetry({ kind: 'status', status: 503, retryAfter: '1800' }, 1, policy, NOW)).toEqual({ retry: false, reason: expect.stringMatching(/wait 1800 s \(Retry-After\), more than the 60 s allowed/) });
  });

  it('retries network errors and 5xx until the attempts run out; never other 4xx', () => {
    expect(nextRetry({ kind: 'network', message: 'ECONNRESET' }, 1, policy, NOW, () => 0)).toEqual({ retry: true, delayMs: 50 });
    expect(nextRetry({ kind: 'status', status: 500 }, 3, policy, NOW, () => 0)).toEqual({ retry: true, delayMs: 200 });
    expect(nextRetry({ kind: 'status', status: 500 }, 4, policy, NOW)).toEqual({ retry: false, reason: 'gave up after 4 attempts' });
    expect(nextRetry({ kind: 'status', status: 403 }, 1, policy, NOW)).toEqual({ retry: false, reason: 'HTTP 403 is not retried' });
  });
});
