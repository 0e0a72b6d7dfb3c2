import { describe, expect, it } from 'vitest';
import type { HttpFailure } from './errors.js';
import { RetryPolicy } from './retry.js';

const failure = (over: Partial<HttpFailure> = {}): HttpFailure => ({
  kind: 'server',
  status: 503,
  method: 'GET',
  path: '/x',
  requestId: null,
  body: null,
  retryAfterMs: null,
  attempts: 1,
  ...over,
});

describe('RetryPolicy', () => {
  const policy = new RetryPolicy({ retries: 2, backoff: { baseMs: 100, capMs: 1_000 }, maxRetryAfterMs: 5_000, random: () => 0.5 });

  it('retries idempotent methods only, and only within the budget', () => {
    expect(policy.delayAfter('GET', failure(), 1)).toBe(50);
    expect(policy.delayAfter('DELETE', failure(), 2)).toBe(100);
    expect(policy.delayAfter('GET', failure(), 3)).toBeNull();
    expect(policy.delayAfter('POST', failure(), 1)).toBeNull();
    expect(policy.delayAfter('PATCH', failure(), 1)).toBeNull();
  });

  it('gives up at once on failures another attempt would meet again', () => {
    for (const kind of ['unauthorized', 'forbidden', 'not_found', 'method_not_allowed', 'conflict', 'validation', 'client', 'invalid_response'] as const) expect(policy.delayAfter('GET', failure({ kind }), 1)).toBeNull();
    for (const kind of ['rate_limited', 'timeout', 'network'] as const) expect(policy.delayAfter('GET', failure({ kind }), 1)).not.toBeNull();
  });

  it("waits the peer's Retry-After instead of the backoff, unless it is longer than the limit", () => {
    expect(policy.delayAfter('GET', failure({ kind: 'rate_limited', retryAfterMs: 3_000 }), 1)).toBe(3_000);
    expect(policy.delayAfter('GET', failure({ kind: 'rate_limited', retryAfterMs: 0 }), 1)).toBe(0);
    expect(policy.delayAfter('GET', failure({ kind: 'rate_limited', retryAfterMs: 5_001 }), 1)).toBeNull();
  });
});
