import { isInteger, isSafeNumber, parse as parseLossless } from 'lossless-json';
import type { z } from 'zod';

/**
 * Upstream error bodies are `{detail, request_id}`; `detail` is a string, a FastAPI-style list
 * `[{type, loc, msg, input, ctx?}]` for validation, or a domain object `{message, …}`.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : `HTTP ${status}`);
  }
}

export interface ValidationItem {
  type: string;
  loc: Array<string | number>;
  msg: string;
  input: unknown;
  ctx?: Record<string, unknown>;
}

export const notFound = (): HttpError => new HttpError(404, 'Not Found');

/** A pydantic model validator's error: one `value_error` on the whole body (`loc: ["body"]`), repeated `times`. */
export function bodyValueError(message: string, input: unknown, times = 1): HttpError {
  const item: ValidationItem = { type: 'value_error', loc: ['body'], msg: `Value error, ${message}`, input, ctx: { error: message } };
  return new HttpError(422, Array.from({ length: times }, () => item));
}

/** `{"status": null}` fails upstream's model validator (whole body), not the field. */
export function rejectNullStatus(value: unknown): void {
  if (value !== null && typeof value === 'object' && (value as { status?: unknown }).status === null) {
    throw bodyValueError('status is required', value);
  }
}
export const unprocessable = (items: ValidationItem[]): HttpError => new HttpError(422, items);

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** pydantic's `ctx` for the issue kinds the sandbox produces (recorded: `le`/`ge`, `expected`, `error`). */
function pydanticCtx(issue: z.core.$ZodIssue, type: string, msg: string): Record<string, unknown> | undefined {
  if (issue.code === 'too_big') return { le: Number(issue.maximum) };
  if (issue.code === 'too_small') return type === 'string_too_short' ? { min_length: Number(issue.minimum) } : { ge: Number(issue.minimum) };
  if (issue.code === 'invalid_value') {
    const quoted = issue.values.map((v) => `'${String(v)}'`);
    return { expected: quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}` : (quoted[0] ?? '') };
  }
  if (type === 'value_error') return { error: msg.replace(/^Value error, /, '') };
  return undefined;
}

function pydanticType(issue: z.core.$ZodIssue, missing: boolean, atRoot: boolean): string {
  if (missing) return 'missing';
  switch (issue.code) {
    case 'invalid_value':
      return 'literal_error';
    case 'invalid_type':
      return atRoot && issue.expected === 'object' ? 'model_attributes_type' : `${issue.expected}_type`;
    case 'too_big':
      return 'less_than_equal';
    case 'too_small':
      return issue.origin === 'string' ? 'string_too_short' : 'greater_than_equal';
    default:
      return 'value_error';
  }
}

const PYDANTIC_MSG: Record<string, (issue: z.core.$ZodIssue) => string> = {
  model_attributes_type: () => 'Input should be a valid dictionary or object to extract fields from',
  less_than_equal: (i) => `Input should be less than or equal to ${Number((i as { maximum: number }).maximum)}`,
  greater_than_equal: (i) => `Input should be greater than or equal to ${Number((i as { minimum: number }).minimum)}`,
  string_too_short: (i) => {
    const n = Number((i as { minimum: number }).minimum);
    return `String should have at least ${n} character${n === 1 ? '' : 's'}`;
  },
};

/** The body as `schema` reads it, or upstream's 422 with pydantic's detail list. */
export function parseOr422<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(422, zodDetail(parsed.error, value));
  return parsed.data;
}

/** Maps zod issues onto pydantic's `[{type, loc, msg, input, ctx?}]`, the shape upstream answers. */
export function zodDetail(error: z.ZodError, input: unknown, prefix: Array<string | number> = ['body']): ValidationItem[] {
  return error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const value = valueAt(input, issue.path);
    const missing = value === undefined && issue.code === 'invalid_type';
    const type = pydanticType(issue, missing, path.length === 0);
    const msg = missing ? 'Field required' : (PYDANTIC_MSG[type]?.(issue) ?? issue.message);
    // pydantic reports a missing field with the whole object as input.
    const shown = missing ? valueAt(input, issue.path.slice(0, -1)) : value;
    const item: ValidationItem = { type, loc: [...prefix, ...path], msg, input: shown === undefined ? null : shown };
    const ctx = pydanticCtx(issue, type, msg);
    if (ctx) item.ctx = ctx;
    return item;
  });
}

/**
 * Parses a JSON request body. JS cannot tell `1` from `1.0` after JSON.parse, but upstream's
 * integer fields reject `1.0`, so the raw text is scanned for float literals and their paths
 * returned (as JSON-encoded key arrays). Integers beyond 2^53 become `bigint` (Python keeps them
 * exactly); they are written back as the same digits by the sandbox's lossless `sendJson`.
 */
/** A number as JS holds it, unless it is an integer JS cannot hold exactly: then a `bigint`. */
function exactNumber(text: string): number | bigint {
  return isInteger(text) && !isSafeNumber(text) ? BigInt(text) : Number(text);
}

export function parseJsonBody(text: string): { value: unknown; floatPaths: Set<string> } {
  if (text.trim() === '') {
    throw unprocessable([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }]);
  }
  let value: unknown;
  try {
    // the lossless parser is slow: only for bodies that may hold an integer beyond 2^53 (16+ digits)
    value = /\d{16}/.test(text) ? parseLossless(text, null, exactNumber) : JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const position = /position (\d+)/.exec(message);
    throw unprocessable([
      {
        type: 'json_invalid',
        loc: ['body', position ? Number(position[1]) : 0],
        msg: 'JSON decode error',
        input: {},
        ctx: { error: message },
      },
    ]);
  }
  return { value, floatPaths: floatLiteralPaths(text) };
}

export function floatLiteralPaths(text: string): Set<string> {
  const paths = new Set<string>();
  const stack: Array<{ kind: 'o' | 'a'; key: string | number; expectKey: boolean }> = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (top?.kind === 'o' && top.expectKey) {
        top.key = JSON.parse(text.slice(i, j + 1)) as string;
        top.expectKey = false;
      }
      i = j + 1;
    } else if (c === '{' || c === '[') {
      stack.push(c === '{' ? { kind: 'o', key: '', expectKey: true } : { kind: 'a', key: 0, expectKey: false });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      const top = stack.at(-1);
      if (top?.kind === 'o') top.expectKey = true;
      else if (top) top.key = (top.key as number) + 1;
      i++;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let j = i;
      while (j < text.length && /[-+0-9.eE]/.test(text[j] as string)) j++;
      if (/[.eE]/.test(text.slice(i, j))) paths.add(JSON.stringify(stack.map((f) => f.key)));
      i = j;
    } else {
      i++;
    }
  }
  return paths;
}
