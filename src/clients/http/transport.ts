import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Agent, request, type Dispatcher } from 'undici';
import { sleep } from './backoff.js';
import { HttpError, type HttpErrorKind, type HttpFailure } from './errors.js';
import { RetryPolicy, type RetryOptions } from './retry.js';
import { answerFailure, AttemptTimeout, buildQuery, parseBody, requestIdOf, type HttpMethod, type QueryValue } from './wire.js';

export { buildQuery, type HttpMethod, type QueryValue } from './wire.js';

/**
 * A JSON-over-HTTP transport for one peer: a timeout on every attempt (headers and body),
 * retries with full-jitter backoff for idempotent methods only (`retry.ts`), and counters for benchmarks.
 * Credentials live in `headers` and never reach errors, logs or stats.
 */

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

export interface HttpRequest {
  method: HttpMethod;
  /** relative to the base URL, starting with '/' */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** caller's cancellation (e.g. a per-reconcile deadline); aborting never triggers a retry */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  body: unknown;
  requestId: string | null;
  attempts: number;
}

export interface HttpStats {
  /** HTTP requests sent, retries and stream connections included */
  requests: number;
  /** non-GET requests sent */
  writes: number;
  /** attempts beyond the first */
  retries: number;
  /** calls that ended in an error */
  failures: number;
}

export interface HttpTransportOptions extends RetryOptions {
  /** e.g. http://127.0.0.1:8000/api/v1 */
  baseUrl: string;
  /** sent on every request (Authorization goes here) */
  headers?: Record<string, string>;
  /** per attempt, headers and body together; default 10 000 */
  timeoutMs?: number;
  /**
   * until a stream's headers arrive; default 30 000. Longer than the peer's keep-alive ping (15 s upstream): a
   * buffering proxy holds the headers until the first byte, which on a quiet board is that ping.
   */
  streamConnectTimeoutMs?: number;
  dispatcher?: Dispatcher;
  logger?: Logger;
  userAgent?: string;
  /** lets a peer client turn a failure into its own error class */
  makeError?: (failure: HttpFailure) => Error;
  /**
   * The client's lifetime: aborting it cancels every request in flight (retry waits included) and every
   * later one. The shutdown aborts it at the drain deadline so no request outlives the process's budget.
   */
  signal?: AbortSignal;
}

export interface StreamResponse {
  status: number;
  body: AsyncIterable<Buffer | string>;
}

let shared: Agent | undefined;
/** One keep-alive pool for the whole process; connections are reused across clients of the same origin. */
export function sharedAgent(): Agent {
  shared ??= new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connections: 16 });
  return shared;
}

/** Twice Mission Control's 15 s stream ping: the first byte of a quiet stream arrives within it. */
export const DEFAULT_STREAM_CONNECT_TIMEOUT_MS = 30_000;

export class HttpTransport {
  readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly streamConnectTimeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly logger: Logger | undefined;
  private readonly makeError: (failure: HttpFailure) => Error;
  private readonly lifetime: AbortSignal | undefined;
  private readonly counters: HttpStats = { requests: 0, writes: 0, retries: 0, failures: 0 };

  constructor(opts: HttpTransportOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.headers = {
      accept: 'application/json',
      ...(opts.userAgent ? { 'user-agent': opts.userAgent } : {}),
      ...opts.headers,
    };
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retry = new RetryPolicy(opts);
    this.streamConnectTimeoutMs = opts.streamConnectTimeoutMs ?? DEFAULT_STREAM_CONNECT_TIMEOUT_MS;
    this.dispatcher = opts.dispatcher ?? sharedAgent();
    this.logger = opts.logger;
    this.makeError = opts.makeError ?? ((f) => new HttpError(f));
    this.lifetime = opts.signal;
  }

  /** The caller's signal joined with the client's lifetime. */
  private joined(signal: AbortSignal | undefined): AbortSignal | undefined {
    if (!this.lifetime) return signal;
    return signal ? AbortSignal.any([signal, this.lifetime]) : this.lifetime;
  }

  get stats(): HttpStats {
    return { ...this.counters };
  }

  /** Sends one request, retrying idempotent ones; resolves with the parsed JSON body of a 2xx answer. */
  async send(request: HttpRequest): Promise<HttpResponse> {
    const signal = this.joined(request.signal);
    const req: HttpRequest = signal ? { ...request, signal } : request;
    const relPath = `${req.path}${buildQuery(req.query)}`;
    const callId = randomUUID().replaceAll('-', '');
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(req, relPath, callId, attempt);
      if (!('kind' in outcome)) return outcome;
      const delay = req.signal?.aborted ? null : this.retry.delayAfter(req.method, outcome, attempt);
      if (delay === null) {
        this.counters.failures++;
        throw this.makeError(outcome);
      }
      this.counters.retries++;
      this.logger?.debug(
        { method: req.method, path: relPath, kind: outcome.kind, status: outcome.status, attempt, delayMs: delay },
        'retrying idempotent request',
      );
      await sleep(delay, req.signal);
    }
  }

  private async attempt(
    req: HttpRequest,
    relPath: string,
    callId: string,
    attempt: number,
  ): Promise<HttpResponse | HttpFailure> {
    const failure = (kind: HttpErrorKind, extra: Partial<HttpFailure> = {}): HttpFailure => ({
      kind,
      status: null,
      method: req.method,
      path: relPath,
      requestId: null,
      body: null,
      retryAfterMs: null,
      attempts: attempt,
      ...extra,
    });
    req.signal?.throwIfAborted();
    this.counters.requests++;
    if (req.method !== 'GET' && req.method !== 'HEAD') this.counters.writes++;

    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new AttemptTimeout(this.timeoutMs)), this.timeoutMs);
    const signal = req.signal ? AbortSignal.any([deadline.signal, req.signal]) : deadline.signal;
    const headers: Record<string, string> = { ...this.headers, 'x-request-id': callId };
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    try {
      const res = await request(`${this.baseUrl}${relPath}`, {
        method: req.method,
        headers,
        body: payload,
        dispatcher: this.dispatcher,
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const text = await res.body.text();
      const parsed = parseBody(text);
      const body = parsed.ok ? parsed.value : parsed.text;
      if (res.statusCode >= 200 && res.statusCode < 300) {
        const requestId = requestIdOf(body, res.headers);
        if (!parsed.ok) return failure('invalid_response', { status: res.statusCode, requestId, body });
        return { status: res.statusCode, body, requestId, attempts: attempt };
      }
      const answer = answerFailure(res.statusCode, res.headers, body);
      return failure(answer.kind, answer);
    } catch (err) {
      // the caller's own abort is not a peer failure: rethrow it untouched
      if (req.signal?.aborted) throw req.signal.reason;
      return failure(this.classify(err, deadline.signal), { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  private classify(err: unknown, deadline: AbortSignal): HttpErrorKind {
    if (deadline.aborted) return 'timeout';
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return 'timeout';
    return 'network';
  }

  /**
   * Opens a long-lived GET (SSE). Only the headers are under a timeout (`streamConnectTimeoutMs`, not the
   * request timeout); the body may stay open
   * as long as a chunk arrives within `idleTimeoutMs` (servers send keep-alive comments).
   * Non-2xx answers throw the peer's error; counted in stats like any request.
   */
  async openStream(
    path: string,
    query: Record<string, QueryValue>,
    callerSignal: AbortSignal,
    idleTimeoutMs: number,
  ): Promise<StreamResponse> {
    const signal = this.joined(callerSignal)!;
    const relPath = `${path}${buildQuery(query)}`;
    this.counters.requests++;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new AttemptTimeout(this.streamConnectTimeoutMs)), this.streamConnectTimeoutMs);
    const base: HttpFailure = {
      kind: 'network',
      status: null,
      method: 'GET',
      path: relPath,
      requestId: null,
      body: null,
      retryAfterMs: null,
      attempts: 1,
    };
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.baseUrl}${relPath}`, {
        method: 'GET',
        headers: { ...this.headers, accept: 'text/event-stream', 'cache-control': 'no-cache' },
        dispatcher: this.dispatcher,
        signal: AbortSignal.any([signal, deadline.signal]),
        headersTimeout: this.streamConnectTimeoutMs,
        bodyTimeout: idleTimeoutMs,
      });
    } catch (err) {
      clearTimeout(timer);
      if (signal.aborted) throw signal.reason;
      this.counters.failures++;
      throw this.makeError({ ...base, kind: this.classify(err, deadline.signal), cause: err });
    }
    clearTimeout(timer);
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const parsed = parseBody(await res.body.text().catch(() => ''));
      const body = parsed.ok ? parsed.value : parsed.text;
      this.counters.failures++;
      throw this.makeError({ ...base, ...answerFailure(res.statusCode, res.headers, body) });
    }
    return { status: res.statusCode, body: res.body };
  }
}
