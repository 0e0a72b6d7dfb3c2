import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, unprocessable } from './errors.js';
import type { Store } from './store.js';

/** A tiny path router: `{name}` segments become params; `*_id` params must be UUIDs (as in FastAPI). */

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  requestId: string;
  store: Store;
  /** parsed JSON body plus the paths of float literals (see errors.ts parseJsonBody) */
  body(): Promise<{ value: unknown; floatPaths: Set<string> }>;
}

/** `streaming` = the handler owns the response (SSE). */
export type RouteResult = { status?: number; body: unknown } | 'streaming';

export interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  /** request-accounting bucket, e.g. `tasks`, `comments` */
  family: string;
  /** open to agent tokens too (U/A): a failed bearer falls through to agent auth and its limiter */
  agents: boolean;
  handler(ctx: RouteContext): Promise<RouteResult> | RouteResult;
}

export function route(method: string, path: string, family: string, handler: Route['handler'], opts: { agents?: boolean } = {}): Route {
  const names: string[] = [];
  const source = path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { method, pattern: new RegExp(`^${source}/?$`), names, family, handler, agents: opts.agents ?? false };
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export type Match =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method'; family: string }
  | { kind: 'none' };

export function match(routes: Route[], method: string, path: string): Match {
  let pathMatched: Route | null = null;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    if (r.method !== method) {
      pathMatched ??= r;
      continue;
    }
    const params: Record<string, string> = {};
    r.names.forEach((name, i) => {
      params[name] = decodeURIComponent(m[i + 1] as string);
    });
    return { kind: 'found', route: r, params };
  }
  return pathMatched ? { kind: 'method', family: pathMatched.family } : { kind: 'none' };
}

/** Upstream types path ids as plain strings: a non-UUID reaches the database and fails there (bare 500). */
export function checkPathIds(params: Record<string, string>): void {
  if (Object.entries(params).some(([name, value]) => name.endsWith('_id') && !isUuid(value))) {
    throw new HttpError(500, 'Internal Server Error');
  }
}

// ---- pagination (fastapi-pagination LimitOffsetParams: limit 1..200, default 200; offset >= 0) ----

export const MAX_LIMIT = 200;

function intQuery(url: URL, name: string, fallback: number, min: number, max: number | null): number {
  const raw = url.searchParams.get(name);
  if (raw === null) return fallback;
  if (!/^\s*[-+]?\d+\s*$/.test(raw)) {
    throw unprocessable([
      {
        type: 'int_parsing',
        loc: ['query', name],
        msg: 'Input should be a valid integer, unable to parse string as an integer',
        input: raw,
      },
    ]);
  }
  const value = Number(raw);
  const bound = (type: 'greater_than_equal' | 'less_than_equal', limit: number) =>
    unprocessable([
      {
        type,
        loc: ['query', name],
        msg: `Input should be ${type === 'greater_than_equal' ? 'greater' : 'less'} than or equal to ${limit}`,
        input: raw,
        ctx: type === 'greater_than_equal' ? { ge: limit } : { le: limit },
      },
    ]);
  if (value < min) throw bound('greater_than_equal', min);
  if (max !== null && value > max) throw bound('less_than_equal', max);
  return value;
}

export function pageParams(url: URL): { limit: number; offset: number } {
  return { limit: intQuery(url, 'limit', MAX_LIMIT, 1, MAX_LIMIT), offset: intQuery(url, 'offset', 0, 0, null) };
}

export function paged<T>(items: T[], url: URL): { items: T[]; total: number; limit: number; offset: number } {
  const { limit, offset } = pageParams(url);
  return { items: items.slice(offset, offset + limit), total: items.length, limit, offset };
}
