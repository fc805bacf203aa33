/**
 * The retry policy, pure: which failures retry and how long to wait. Time and randomness are
 * inputs, so tests need no clock and no sleeping (STYLE.md rule 7).
 * 408, 429 and 5xx statuses and network errors (including timeouts) retry; any other status does not.
 */
export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the request fails with a clear error. */
  maxRetryAfterMs: number;
}

export type Failure = { kind: 'status'; status: number; retryAfter?: string | null } | { kind: 'network'; message: string };

export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: string };

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/** Retry-After as milliseconds from `nowMs`: delta-seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/** Exponential backoff capped at maxDelayMs, with "equal jitter": half fixed, half random. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/**
 * Decides what follows the failed attempt number `attempt` (1-based). A Retry-After header is
 * honoured as given (never shortened by the backoff, never longer than maxRetryAfterMs).
 */
export function nextRetry(failure: Failure, attempt: number, policy: RetryPolicy, nowMs: number, random: () => number = Math.random): RetryDecision {
  if (failure.kind === 'status' && !isRetryableStatus(failure.status)) return { retry: false, reason: `HTTP ${failure.status} is not retried` };
  if (attempt >= policy.maxAttempts) return { retry: false, reason: `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}` };
  const retryAfter = failure.kind === 'status' ? parseRetryAfter(failure.retryAfter, nowMs) : undefined;
  if (retryAfter !== undefined) {
    if (retryAfter > policy.maxRetryAfterMs) {
      return { retry: false, reason: `the upstream asks to wait ${Math.ceil(retryAfter / 1000)} s (Retry-After), more than the ${Math.ceil(policy.maxRetryAfterMs / 1000)} s allowed` };
    }
    return { retry: true, delayMs: retryAfter };
  }
  return { retry: true, delayMs: backoffDelay(attempt, policy, random) };
}
