/** Errors of the shared HTTP plumbing: one class, a `kind` to branch on, never a secret in the text. */

export const HTTP_ERROR_KINDS = [
  'unauthorized',
  'forbidden',
  'not_found',
  'method_not_allowed',
  'conflict',
  'validation',
  'rate_limited',
  'client',
  'server',
  'timeout',
  'network',
  'invalid_response',
] as const;
export type HttpErrorKind = (typeof HTTP_ERROR_KINDS)[number];

/** Everything known about a failed exchange; `path` is relative to the peer's base URL (no origin, no credentials). */
export interface HttpFailure {
  kind: HttpErrorKind;
  /** null when no response arrived (timeout, network) */
  status: number | null;
  method: string;
  path: string;
  requestId: string | null;
  /** parsed JSON body when there was one, else the text (truncated), else null */
  body: unknown;
  /** from Retry-After, when the server sent one */
  retryAfterMs: number | null;
  /** attempts made, retries included */
  attempts: number;
  cause?: unknown;
}

export function kindForStatus(status: number): HttpErrorKind {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 405) return 'method_not_allowed';
  if (status === 409) return 'conflict';
  if (status === 400 || status === 422) return 'validation';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server';
  return 'client';
}

/** Collapses whitespace so a message stays on one log line, and bounds its length. */
export function oneLine(text: string, max = 500): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export class HttpError extends Error {
  readonly kind: HttpErrorKind;
  readonly status: number | null;
  readonly method: string;
  readonly path: string;
  readonly requestId: string | null;
  readonly body: unknown;
  readonly retryAfterMs: number | null;
  readonly attempts: number;

  constructor(failure: HttpFailure, message?: string) {
    super(message ?? HttpError.describe(failure), failure.cause === undefined ? undefined : { cause: failure.cause });
    this.name = 'HttpError';
    this.kind = failure.kind;
    this.status = failure.status;
    this.method = failure.method;
    this.path = failure.path;
    this.requestId = failure.requestId;
    this.body = failure.body;
    this.retryAfterMs = failure.retryAfterMs;
    this.attempts = failure.attempts;
  }

  static describe(f: HttpFailure): string {
    const what = f.status === null ? f.kind : `${f.status} ${f.kind}`;
    const cause = f.cause instanceof Error ? `: ${f.cause.message}` : '';
    const tries = f.attempts > 1 ? ` after ${f.attempts} attempts` : '';
    const rid = f.requestId ? ` (request_id ${f.requestId})` : '';
    return oneLine(`${f.method} ${f.path} failed with ${what}${cause}${tries}${rid}`);
  }
}
