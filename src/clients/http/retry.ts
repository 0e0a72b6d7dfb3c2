/** When a failed request is sent again, and after how long: the retry policy every HTTP peer shares. */
import { fullJitterDelay, type BackoffPolicy } from './backoff.js';
import type { HttpErrorKind, HttpFailure } from './errors.js';
import type { HttpMethod } from './wire.js';

/** RFC 9110 §9.2.2: repeating these has the same effect as sending them once. POST/PATCH are never retried. */
const IDEMPOTENT: ReadonlySet<HttpMethod> = new Set(['GET', 'HEAD', 'PUT', 'DELETE']);
const RETRYABLE: ReadonlySet<HttpErrorKind> = new Set(['rate_limited', 'server', 'timeout', 'network']);

export interface RetryOptions {
  /** retries after the first attempt, idempotent methods only; default 4 */
  retries?: number;
  /** default 250 ms → 8 s, full jitter */
  backoff?: BackoffPolicy;
  /** a Retry-After longer than this is not waited for: the error is thrown instead; default 60 000 */
  maxRetryAfterMs?: number;
  /** injectable for deterministic tests */
  random?: () => number;
}

export class RetryPolicy {
  private readonly retries: number;
  private readonly backoff: BackoffPolicy;
  private readonly maxRetryAfterMs: number;
  private readonly random: () => number;

  constructor(opts: RetryOptions) {
    this.retries = Math.max(0, opts.retries ?? 4);
    this.backoff = opts.backoff ?? { baseMs: 250, capMs: 8_000 };
    this.maxRetryAfterMs = opts.maxRetryAfterMs ?? 60_000;
    this.random = opts.random ?? Math.random;
  }

  /**
   * Milliseconds to wait before sending `method` again after its `attempt`-th try failed, or null to give up:
   * only idempotent methods, only failures a later attempt may not meet, never past the retry budget. The
   * peer's Retry-After wins over the jittered backoff, unless it asks for longer than we are willing to wait.
   */
  delayAfter(method: HttpMethod, failure: HttpFailure, attempt: number): number | null {
    if (!IDEMPOTENT.has(method) || !RETRYABLE.has(failure.kind) || attempt > this.retries) return null;
    if (failure.retryAfterMs !== null) return failure.retryAfterMs > this.maxRetryAfterMs ? null : failure.retryAfterMs;
    return fullJitterDelay(attempt - 1, this.backoff, this.random);
  }
}
