import type { Logger } from 'pino';
import { createParser } from 'eventsource-parser';
import { fullJitterDelay, sleep, type BackoffPolicy } from './backoff.js';
import type { HttpTransport, QueryValue } from './transport.js';

/**
 * A header-authenticated Server-Sent Events reader (a browser EventSource cannot send Authorization)
 * that reconnects forever with full-jitter backoff until closed. Deduplication and resume points
 * (`since`) belong to the caller, which supplies a fresh query for every connection.
 */

export interface SseMessage {
  event: string;
  data: string;
  id: string | undefined;
}

export interface SseStreamOptions {
  transport: HttpTransport;
  path: string;
  /** evaluated before every (re)connection */
  query: () => Record<string, QueryValue>;
  onMessage(message: SseMessage): void;
  /** connection trouble; the reader keeps reconnecting */
  onError?(error: Error): void;
  onConnect?(): void;
  /** default 1 s → 30 s */
  backoff?: BackoffPolicy;
  /** a connection silent for longer than this is dropped and reopened; default 45 s (servers ping every 15 s) */
  idleTimeoutMs?: number;
  /** a connection that lived this long resets the backoff; default 10 s */
  healthyAfterMs?: number;
  /** floor under the jittered delay so a flapping server cannot cause a hot loop; default 100 ms */
  minDelayMs?: number;
  logger?: Logger;
  random?: () => number;
}

export interface SseHandle {
  close(): void;
  /** settles (never rejects) once the reader has stopped after close() */
  readonly closed: Promise<void>;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

export function openSseStream(opts: SseStreamOptions): SseHandle {
  const controller = new AbortController();
  const { signal } = controller;
  const backoff = opts.backoff ?? { baseMs: 1_000, capMs: 30_000 };
  const idleTimeoutMs = opts.idleTimeoutMs ?? 45_000;
  const healthyAfterMs = opts.healthyAfterMs ?? 10_000;
  const minDelayMs = opts.minDelayMs ?? 100;
  const log = opts.logger;

  const report = (err: unknown): void => {
    try {
      opts.onError?.(asError(err));
    } catch (handlerErr) {
      log?.warn({ err: asError(handlerErr).message }, 'stream error handler threw');
    }
  };

  const readOnce = async (): Promise<void> => {
    const res = await opts.transport.openStream(opts.path, opts.query(), signal, idleTimeoutMs);
    opts.onConnect?.();
    const parser = createParser({
      onEvent: (ev) => {
        try {
          opts.onMessage({ event: ev.event ?? 'message', data: ev.data, id: ev.id });
        } catch (err) {
          // one bad handler call must not tear the connection down
          log?.warn({ path: opts.path, err: asError(err).message }, 'stream event handler threw; event skipped');
        }
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of res.body) {
      parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    }
  };

  const run = async (): Promise<void> => {
    let attempt = 0;
    while (!signal.aborted) {
      const startedAt = Date.now();
      try {
        await readOnce();
        if (signal.aborted) break;
        log?.debug({ path: opts.path }, 'stream closed by server; reconnecting');
      } catch (err) {
        if (signal.aborted) break;
        log?.debug({ path: opts.path, err: asError(err).message }, 'stream failed; reconnecting');
        report(err);
      }
      attempt = Date.now() - startedAt >= healthyAfterMs ? 0 : attempt + 1;
      const delay = Math.max(minDelayMs, fullJitterDelay(attempt, backoff, opts.random));
      try {
        await sleep(delay, signal);
      } catch {
        break;
      }
    }
  };

  const closed = run().catch((err: unknown) => {
    log?.error({ path: opts.path, err: asError(err).message }, 'stream reader stopped unexpectedly');
  });

  return {
    close: () => controller.abort(),
    closed,
  };
}
