import { HttpError } from './errors.js';
import type { FieldRow, FieldType } from './store.js';
import { FIELD_TYPES } from './store.js';
import { isIsoDate, parseIsoMicros } from './time.js';

/**
 * Per-type value rules of upstream `validate_custom_field_value` (mission-control-api.md §5.3). The
 * `reason` texts of text, integer, decimal, boolean and json are upstream's as recorded in
 * shared/conformance; date, date_time and url were not recorded and are approximations.
 */

const TYPE_ALIASES: Record<string, FieldType> = {
  'text (long)': 'text_long',
  long_text: 'text_long',
  'true/false': 'boolean',
  'date & time': 'date_time',
  datetime: 'date_time',
};

export function normaliseFieldType(raw: string): FieldType | null {
  const key = raw.trim().toLowerCase();
  if ((FIELD_TYPES as readonly string[]).includes(key)) return key as FieldType;
  return TYPE_ALIASES[key] ?? null;
}

/** Returns why `value` is not a valid `type` value, or null when it is. `null` itself is always fine. */
export function invalidReason(
  type: FieldType,
  value: unknown,
  opts: { floatLiteral: boolean; regex?: string | null },
): string | null {
  if (value === null) return null;
  switch (type) {
    case 'text':
    case 'text_long':
      if (typeof value !== 'string') return 'must be a string';
      if (opts.regex && !new RegExp(`^(?:${opts.regex})$`).test(value)) return 'does not match validation_regex';
      return null;
    case 'integer':
      return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value) && !opts.floatLiteral) ? null : 'must be an integer';
    case 'decimal':
      return typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value)) ? null : 'must be a decimal number';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'date':
      return typeof value === 'string' && isIsoDate(value) ? null : 'must be a date in YYYY-MM-DD format';
    case 'date_time':
      return typeof value === 'string' && value.includes('T') && parseIsoMicros(value) !== null
        ? null
        : 'must be an ISO 8601 datetime';
    case 'url': {
      if (typeof value !== 'string') return 'must be a URL string';
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== ''
          ? null
          : 'must be an http(s) URL with a host';
      } catch {
        return 'must be an http(s) URL with a host';
      }
    }
    case 'json':
      return value !== null && typeof value === 'object' ? null : 'must be a JSON object or array';
  }
}

/**
 * Validates a TaskCreate/TaskUpdate `custom_field_values` object against the board's bindings:
 * unknown keys first, then each value, exactly in upstream's order.
 */
export function checkTaskValues(
  values: Record<string, unknown>,
  defs: FieldRow[],
  floatPaths: Set<string>,
): Map<string, FieldRow> {
  const byKey = new Map(defs.map((d) => [d.field_key, d]));
  const unknown = Object.keys(values)
    .filter((k) => !byKey.has(k))
    .sort();
  if (unknown.length > 0) {
    throw new HttpError(422, { message: 'Unknown custom field keys for this board.', unknown_field_keys: unknown });
  }
  for (const [key, value] of Object.entries(values)) {
    const def = byKey.get(key) as FieldRow;
    const reason = invalidReason(def.field_type, value, {
      floatLiteral: floatPaths.has(JSON.stringify(['custom_field_values', key])),
      regex: def.validation_regex,
    });
    if (reason) {
      throw new HttpError(422, {
        message: 'Invalid custom field value.',
        field_key: key,
        field_type: def.field_type,
        reason,
      });
    }
  }
  return byKey;
}

export function requireFilled(effective: Map<string, unknown>, defs: FieldRow[]): void {
  const missing = defs
    .filter((d) => d.required && (effective.get(d.id) ?? null) === null)
    .map((d) => d.field_key)
    .sort();
  if (missing.length > 0) {
    throw new HttpError(422, { message: 'Required custom fields must have values.', missing_field_keys: missing });
  }
}
