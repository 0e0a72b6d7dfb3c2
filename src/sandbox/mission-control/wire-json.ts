import { isLosslessNumber, LosslessNumber } from 'lossless-json';

/**
 * JSON as upstream's Python writes it, where JS would differ: floats keep their `.0`
 * (`confidence: 50.0`), integers beyond 2^53 keep every digit (`bigint`), and SSE `data:` lines use
 * `json.dumps` defaults (`", "` / `": "` separators, non-ASCII kept as is).
 */

/** A Python float: `50` is written `50.0`. */
export function pyFloat(value: number): LosslessNumber {
  const text = Number.isInteger(value) && Math.abs(value) < 1e16 ? `${value}.0` : String(value);
  return new LosslessNumber(text);
}

/** `json.dumps(value, ensure_ascii=False)` with its default separators. */
export function pythonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (isLosslessNumber(value)) return value.value;
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
    case 'string':
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map(pythonDumps).join(', ')}]`;
      return `{${Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${JSON.stringify(k)}: ${pythonDumps(v)}`)
        .join(', ')}}`;
    default:
      return 'null';
  }
}
