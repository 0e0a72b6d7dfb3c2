/**
 * Per-key exponential backoff, jittered above a floor (not full jitter): the n-th consecutive failure waits a
 * random time in [min, min(max, min·2^(n-1))], so a failing key never retries sooner than `min`. Reset on
 * success by forgetting the key.
 */
export function backoffDelay(failures: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  if (failures <= 0) return 0;
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(failures - 1, 40));
  return Math.round(minMs + random() * Math.max(0, ceiling - minMs));
}

/** ±fraction jitter around a period, so replicas and keys do not resync in lock-step. */
export function jittered(periodMs: number, fraction = 0.1, random: () => number = Math.random): number {
  return Math.round(periodMs * (1 - fraction + 2 * fraction * random()));
}
