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
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
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
export const unprocessable = (items: ValidationItem[]): HttpError => new HttpError(422, items);

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

/** Maps zod issues onto the pydantic shape clients already parse. */
export function zodDetail(error: z.ZodError, input: unknown, prefix: Array<string | number> = ['body']): ValidationItem[] {
  return error.issues.map((issue) => {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    const value = valueAt(input, issue.path);
    const missing = value === undefined && issue.code === 'invalid_type';
    const type = missing
      ? 'missing'
      : issue.code === 'invalid_value'
        ? 'literal_error'
        : issue.code === 'invalid_type'
          ? `${issue.expected}_type`
          : issue.code === 'too_big'
            ? 'less_than_equal'
            : issue.code === 'too_small'
              ? 'greater_than_equal'
              : 'value_error';
    return {
      type,
      loc: [...prefix, ...path],
      msg: missing ? 'Field required' : issue.message,
      input: value === undefined ? null : value,
    };
  });
}

/**
 * Parses a JSON request body. JS cannot tell `1` from `1.0` after JSON.parse, but upstream's
 * integer fields reject `1.0`, so the raw text is scanned for float literals and their paths
 * returned (as JSON-encoded key arrays).
 */
export function parseJsonBody(text: string): { value: unknown; floatPaths: Set<string> } {
  if (text.trim() === '') {
    throw unprocessable([{ type: 'missing', loc: ['body'], msg: 'Field required', input: null }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw unprocessable([
      {
        type: 'json_invalid',
        loc: ['body', 0],
        msg: 'JSON decode error',
        input: {},
        ctx: { error: err instanceof Error ? err.message : String(err) },
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
