/**
 * Typed Discord failures. Messages name the method, route and Discord's code, never the token or the
 * message body (the library's own errors carry the request body, so they are not passed through).
 */
export class DiscordError extends Error {
  /** true when retrying the same request cannot help (bad request, missing access, unknown channel) */
  readonly permanent: boolean;
  constructor(message: string, permanent = false) {
    super(message);
    this.name = new.target.name;
    this.permanent = permanent;
  }
}

/** Discord answered 4xx with a JSON error: `code` is Discord's (50035 Invalid Form Body, 50001 Missing Access, …). */
export class DiscordApiError extends DiscordError {
  constructor(
    readonly status: number,
    readonly code: number | string,
    detail: string,
    route: string,
  ) {
    // 401/403/404 and validation errors do not heal by retrying; 408/409 might
    super(`Discord ${route} refused: HTTP ${status} code ${code}: ${detail}`, status !== 408 && status !== 409);
  }
}

/** 5xx after the library's own retries, or a network failure. */
export class DiscordUnavailableError extends DiscordError {
  constructor(
    readonly status: number | null,
    detail: string,
    route: string,
  ) {
    super(`Discord ${route} unavailable: ${status === null ? detail : `HTTP ${status} ${detail}`}`);
  }
}

/** A rate-limit wait longer than we are willing to sleep inside one call; the caller's backoff takes over. */
export class DiscordRateLimitedError extends DiscordError {
  constructor(
    readonly retryAfterMs: number,
    readonly global: boolean,
    route: string,
  ) {
    super(`Discord ${route} rate limited${global ? ' (global)' : ''}: retry after ${retryAfterMs} ms`);
  }
}

/** Our own deadline around one call passed (429 storms, slow answers, waits the library would not abort). */
export class DiscordTimeoutError extends DiscordError {
  constructor(
    readonly deadlineMs: number,
    route: string,
  ) {
    super(`Discord ${route} did not complete within ${deadlineMs} ms`);
  }
}

/** Discord answered 2xx with a body we cannot read as a message. */
export class DiscordResponseError extends DiscordError {
  constructor(detail: string, route: string) {
    super(`Discord ${route} answered with an unreadable body: ${detail}`);
  }
}
