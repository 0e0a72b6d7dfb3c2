/**
 * Costs come from agents (TASK_UPDATE `cost`), the gateway's usage totals and hand-edited fields: all untrusted.
 * A plausible cost is a finite, non-negative number of USD below a bound no single task reaches, so sums stay
 * finite (`1e308` would otherwise print `$Infinity` in reports and Discord).
 */
export const MAX_COST_USD = 1_000_000;

/** The cost as a number of USD, or null when it is missing, not a number, negative or beyond MAX_COST_USD. */
export function plausibleCost(value: unknown): number | null {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(n) && n >= 0 && n <= MAX_COST_USD ? n : null;
}
