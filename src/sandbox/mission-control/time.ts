/**
 * Upstream stores naive UTC datetimes with microseconds and serialises them without a zone
 * ("2026-03-01T12:34:56.123456"). Internally the sandbox keeps epoch MICROseconds so ordering
 * and `since` comparisons are exact; `nowMicros()` is strictly increasing so two writes in the
 * same millisecond still order (and `created_at DESC` is stable).
 */

let lastMicros = 0;

export function nowMicros(): number {
  const candidate = Date.now() * 1000;
  lastMicros = candidate > lastMicros ? candidate : lastMicros + 1;
  return lastMicros;
}

export function toWire(micros: number): string;
export function toWire(micros: number | null): string | null;
export function toWire(micros: number | null): string | null {
  if (micros === null) return null;
  const ms = Math.floor(micros / 1000);
  const frac = String(micros - ms * 1000).padStart(3, '0');
  return `${new Date(ms).toISOString().slice(0, 23)}${frac}`;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses naive (read as UTC) or zoned ISO-8601, like upstream's `_parse_since`; null when invalid. */
export function parseIsoMicros(value: string): number | null {
  const m = ISO.exec(value.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const base = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s));
  const check = new Date(base);
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  let offsetMin = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  return (base - offsetMin * 60_000) * 1000 + Number(frac.padEnd(6, '0'));
}

export function isIsoDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && parseIsoMicros(value) !== null;
}
