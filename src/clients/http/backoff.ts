/** Retry timing shared by every HTTP peer: full-jitter exponential backoff and Retry-After. */
import { setTimeout as delay } from 'node:timers/promises';

export interface BackoffPolicy {
  /** delay ceiling of the first retry */
  baseMs: number;
  /** no delay ever exceeds this */
  capMs: number;
}

/**
 * "Full jitter" (AWS architecture blog): uniform in [0, min(cap, base·2^attempt)].
 * Spreading retries uniformly avoids many clients hammering a recovering server in lock-step.
 */
export function fullJitterDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/**
 * Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Returns milliseconds to wait (≥ 0), or null when absent or unreadable.
 */
export function parseRetryAfter(value: string | string[] | undefined | null, now: number = Date.now()): number | null {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === null) return null;
  const text = raw.trim();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // an HTTP date always names a weekday/month; without this, Date.parse('-3') reads a year
  if (!/[a-z]/i.test(text)) return null;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now);
}

/**
 * Resolves after `ms`, or rejects with the signal's own reason (not Node's AbortError wrapper) as soon as it
 * aborts, so a caller's timeout or shutdown reason reaches whoever awaits the retry loop.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts; never rejects: the caller checks its own stop flag. */
export async function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (!signal?.aborted) throw err;
  }
}
