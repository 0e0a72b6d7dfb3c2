import { describe, expect, it } from 'vitest';
import { backoffDelay, jittered } from './backoff.js';

const fixed = (r: number) => () => r;

describe('backoffDelay', () => {
  it.each([0, -1, -100])('is 0 for %i failures', (n) => {
    expect(backoffDelay(n, 100, 1_000, fixed(0.5))).toBe(0);
  });

  it.each([
    // failures, min, max, random, expected
    [1, 100, 10_000, 0, 100],
    [1, 100, 10_000, 1, 100], // first failure: ceiling == min, no room for jitter
    [2, 100, 10_000, 1, 200],
    [3, 100, 10_000, 1, 400],
    [4, 100, 10_000, 1, 800],
    [4, 100, 10_000, 0, 100],
    [4, 100, 10_000, 0.5, 450],
    [10, 100, 10_000, 1, 10_000], // 100·2^9 = 51 200, capped
    [10, 100, 10_000, 0, 100],
    [1_000, 100, 10_000, 1, 10_000], // exponent clamp: no Infinity/NaN
  ] as const)('failures=%i min=%i max=%i random=%f → %i', (n, min, max, r, want) => {
    expect(backoffDelay(n, min, max, fixed(r))).toBe(want);
  });

  it('stays within [min, min(max, min·2^(n-1))] for many random draws', () => {
    let seed = 42;
    const lcg = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let n = 1; n <= 20; n++) {
      const ceiling = Math.min(5_000, 50 * 2 ** (n - 1));
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(n, 50, 5_000, lcg);
        expect(d).toBeGreaterThanOrEqual(50);
        expect(d).toBeLessThanOrEqual(ceiling);
        expect(Number.isInteger(d)).toBe(true);
      }
    }
  });

  it('grows monotonically with the failure count at a fixed random draw, up to the cap', () => {
    const delays = Array.from({ length: 12 }, (_, i) => backoffDelay(i + 1, 10, 2_000, fixed(1)));
    for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThanOrEqual(delays[i - 1]!);
    expect(delays.at(-1)).toBe(2_000);
  });

  it('never goes below min even when max < min (misconfiguration)', () => {
    expect(backoffDelay(3, 500, 100, fixed(1))).toBe(500);
  });

  it('uses Math.random by default and stays in range', () => {
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(5, 10, 100);
      expect(d).toBeGreaterThanOrEqual(10);
      expect(d).toBeLessThanOrEqual(100);
    }
  });
});

describe('jittered', () => {
  it.each([
    [1_000, 0.1, 0, 900],
    [1_000, 0.1, 0.5, 1_000],
    [1_000, 0.1, 1, 1_100],
    [30_000, 0.2, 0, 24_000],
    [30_000, 0.2, 1, 36_000],
    [1_000, 0, 0.9, 1_000],
  ] as const)('period=%i fraction=%f random=%f → %i', (period, fraction, r, want) => {
    expect(jittered(period, fraction, fixed(r))).toBe(want);
  });

  it('defaults to ±10 % around the period', () => {
    for (let i = 0; i < 200; i++) {
      const d = jittered(10_000);
      expect(d).toBeGreaterThanOrEqual(9_000);
      expect(d).toBeLessThanOrEqual(11_000);
    }
  });
});
