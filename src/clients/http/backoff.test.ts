import { describe, expect, it } from 'vitest';
import { fullJitterDelay, parseRetryAfter, sleep, sleepUnlessAborted } from './backoff.js';

describe('fullJitterDelay', () => {
  const policy = { baseMs: 100, capMs: 1_000 };
  it.each([
    [0, 100],
    [1, 200],
    [3, 800],
    [4, 1_000],
    [30, 1_000],
  ])('attempt %i stays within [0, %i)', (attempt, ceiling) => {
    expect(fullJitterDelay(attempt, policy, () => 0)).toBe(0);
    expect(fullJitterDelay(attempt, policy, () => 0.999999)).toBe(ceiling - 1);
    for (let i = 0; i < 50; i++) {
      const d = fullJitterDelay(attempt, policy);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(ceiling);
    }
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T12:00:00Z');
  it.each([
    ['5', 5_000],
    ['0', 0],
    [' 2 ', 2_000],
    ['1.5', 1_500],
    ['Sun, 01 Mar 2026 12:00:30 GMT', 30_000],
    ['Sun, 01 Mar 2026 11:59:00 GMT', 0],
  ])('%j → %i ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
  it.each([undefined, null, '', 'soon', '-3'])('%j is unreadable', (value) => {
    expect(parseRetryAfter(value, now)).toBeNull();
  });
  it('takes the first of repeated headers', () => {
    expect(parseRetryAfter(['3', '9'], now)).toBe(3_000);
  });
});

describe('sleep', () => {
  it('rejects with the abort reason and does not wait out the delay', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = sleep(10_000, controller.signal);
    controller.abort(new Error('closed'));
    await expect(pending).rejects.toThrow('closed');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
  it('rejects at once when already aborted', async () => {
    await expect(sleep(10, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  });
  it("rejects with the caller's reason itself, not Node's AbortError wrapper", async () => {
    const reason = new DOMException('deadline', 'TimeoutError');
    const controller = new AbortController();
    const pending = sleep(10_000, controller.signal);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

describe('sleepUnlessAborted', () => {
  it('waits out the delay without a signal', async () => {
    const started = performance.now();
    await sleepUnlessAborted(50);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });
  it('resolves (does not reject) as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = sleepUnlessAborted(10_000, controller.signal);
    controller.abort(new Error('closed'));
    await expect(pending).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
  it('resolves at once when already aborted', async () => {
    const started = Date.now();
    await expect(sleepUnlessAborted(10_000, AbortSignal.abort(new Error('gone')))).resolves.toBeUndefined();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
