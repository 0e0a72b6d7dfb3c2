/** How one HTTP exchange looks on the wire: query strings, JSON bodies, request ids, and a failed answer's fields. */
import { parseRetryAfter } from './backoff.js';
import { kindForStatus, type HttpFailure } from './errors.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type QueryValue = string | number | boolean | null | undefined;

type Headers = Record<string, string | string[] | undefined>;

export function buildQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) params.append(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function headerValue(headers: Headers, name: string): string | null {
  const value = headers[name];
  if (Array.isArray(value)) return value[0] ?? null;
  return value ?? null;
}

function bodyRequestId(body: unknown): string | null {
  if (body && typeof body === 'object' && 'request_id' in body) {
    const rid = (body as { request_id: unknown }).request_id;
    if (typeof rid === 'string' && rid !== '') return rid;
  }
  return null;
}

/** The peer's id of the exchange: from the error body (`request_id`) or the `x-request-id` header. */
export function requestIdOf(body: unknown, headers: Headers): string | null {
  return bodyRequestId(body) ?? headerValue(headers, 'x-request-id');
}

/** JSON, or the text cut to 300 characters when it is not JSON (an HTML error page). */
export function parseBody(text: string): { ok: true; value: unknown } | { ok: false; text: string } {
  if (text.trim() === '') return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, text: text.length > 300 ? `${text.slice(0, 300)}…` : text };
  }
}

/** The fields of a failure that a non-2xx answer decides: its kind, status, body, request id and Retry-After. */
export function answerFailure(statusCode: number, headers: Headers, body: unknown): Pick<HttpFailure, 'kind' | 'status' | 'body' | 'requestId' | 'retryAfterMs'> {
  return {
    kind: kindForStatus(statusCode),
    status: statusCode,
    body,
    requestId: requestIdOf(body, headers),
    retryAfterMs: parseRetryAfter(headers['retry-after']),
  };
}

export class AttemptTimeout extends Error {
  constructor(ms: number) {
    super(`no complete response within ${ms} ms`);
    this.name = 'AttemptTimeout';
  }
}
