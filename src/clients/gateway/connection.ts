/**
 * One WebSocket connection to the gateway: challenge → connect → hello-ok, then id-matched requests and
 * events. It never reconnects by itself (GatewayClient owns that); it only reports why it closed.
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { GatewayError, scrubSecret } from './errors.js';
import { EventFrame, HelloOk, InboundFrame } from './schemas.js';
import type { z } from 'zod';

export interface ConnectionOptions {
  url: string;
  token: string;
  clientVersion: string;
  scopes: readonly string[];
  requestTimeoutMs: number;
  onEvent(event: string, payload: unknown): void;
  /** fires once, after a successful hello, when the socket goes away */
  onClose(error: Error | null): void;
  /** parse failures of inbound frames: one line each */
  onProblem(message: string): void;
  /** size of every inbound frame (what the gateway sends us costs it too) */
  onFrame?(bytes: number): void;
}

interface Waiter {
  method: string;
  resolve(payload: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export type HelloPayload = z.infer<typeof HelloOk>;

const DEFAULT_TICK_MS = 30_000;
/** our own close code for "no tick for 2 × tickIntervalMs", same as the reference client */
export const TICK_TIMEOUT_CLOSE = 4000;

export class GatewayConnection {
  private readonly ws: WebSocket;
  private readonly waiters = new Map<string, Waiter>();
  private lastFrameAt = Date.now();
  private keepalive: NodeJS.Timeout | null = null;
  private established = false;
  private closedByUs = false;
  private closeError: Error | null = null;

  private constructor(private readonly opts: ConnectionOptions) {
    // no `origin` option: a browser Origin header would clear our scopes (§4)
    this.ws = new WebSocket(opts.url, { handshakeTimeout: opts.requestTimeoutMs, maxPayload: 64 * 1024 * 1024 });
    this.ws.on('message', (data) => {
      const text = data.toString();
      opts.onFrame?.(Buffer.byteLength(text));
      this.onMessage(text);
    });
    this.ws.on('error', (error) => {
      this.closeError ??= new GatewayError({ code: 'DISCONNECTED', message: scrubSecret(error.message, opts.token) });
    });
    this.ws.on('close', (code, reason) => this.onSocketClose(code, reason.toString()));
  }

  /** Opens a socket and completes the handshake; rejects with a GatewayError (auth, protocol, timeout). */
  static async open(opts: ConnectionOptions): Promise<{ connection: GatewayConnection; hello: HelloPayload }> {
    const connection = new GatewayConnection(opts);
    try {
      const hello = await connection.handshake();
      connection.established = true;
      connection.startKeepalive(hello.policy?.tickIntervalMs ?? DEFAULT_TICK_MS);
      return { connection, hello };
    } catch (error) {
      connection.closedByUs = true;
      connection.ws.terminate();
      throw error;
    }
  }

  private challengeSeen: (() => void) | null = null;

  private async handshake(): Promise<HelloPayload> {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new GatewayError({ code: 'TIMEOUT', message: `no connect.challenge within ${this.opts.requestTimeoutMs} ms` })),
        this.opts.requestTimeoutMs,
      );
      this.challengeSeen = () => {
        clearTimeout(timer);
        resolve();
      };
      this.failHandshake = (error) => {
        clearTimeout(timer);
        reject(error);
      };
    });
    const payload = await this.request('connect', {
      minProtocol: 3,
      maxProtocol: 4,
      client: { id: 'gateway-client', version: this.opts.clientVersion, platform: process.platform, mode: 'backend' },
      role: 'operator',
      scopes: [...this.opts.scopes],
      // never advertise approval caps: an approval-capable client makes agent runs block on approvals (§11)
      caps: [],
      auth: { token: this.opts.token },
    });
    const hello = HelloOk.safeParse(payload);
    if (!hello.success) throw new GatewayError({ code: 'BAD_RESPONSE', method: 'connect', message: 'connect answer is not a hello-ok' });
    return hello.data;
  }

  private failHandshake: ((error: Error) => void) | null = null;

  request(method: string, params: unknown, timeoutMs = this.opts.requestTimeoutMs): Promise<unknown> {
    if (this.ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new GatewayError({ code: 'DISCONNECTED', method, message: 'not connected' }));
    }
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        reject(new GatewayError({ code: 'TIMEOUT', method, message: `no answer within ${timeoutMs} ms` }));
      }, timeoutMs);
      this.waiters.set(id, { method, resolve, reject, timer });
      this.ws.send(JSON.stringify({ type: 'req', id, method, params }), (error) => {
        if (!error) return;
        clearTimeout(timer);
        this.waiters.delete(id);
        reject(new GatewayError({ code: 'DISCONNECTED', method, message: 'send failed' }));
      });
    });
  }

  private onMessage(text: string): void {
    this.lastFrameAt = Date.now();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.opts.onProblem('gateway sent a frame that is not JSON; skipped');
      return;
    }
    const frame = InboundFrame.safeParse(json);
    if (!frame.success) {
      this.opts.onProblem('gateway sent an unrecognised frame; skipped');
      return;
    }
    if (frame.data.type === 'event') {
      this.onEventFrame(frame.data);
      return;
    }
    const waiter = this.waiters.get(frame.data.id);
    if (!waiter) return;
    this.waiters.delete(frame.data.id);
    clearTimeout(waiter.timer);
    if (frame.data.ok) {
      waiter.resolve(frame.data.payload);
      return;
    }
    const e = frame.data.error;
    waiter.reject(
      new GatewayError({
        code: e?.code ?? 'UNKNOWN',
        message: scrubSecret(e?.message ?? 'request failed', this.opts.token),
        detailCode: e?.details?.code ?? null,
        retryable: e?.retryable ?? false,
        retryAfterMs: e?.retryAfterMs ?? null,
        method: waiter.method,
      }),
    );
  }

  private onEventFrame(frame: z.infer<typeof EventFrame>): void {
    if (frame.event === 'connect.challenge') {
      this.challengeSeen?.();
      this.challengeSeen = null;
      return;
    }
    if (!this.established) return;
    this.opts.onEvent(frame.event, frame.payload);
  }

  private startKeepalive(tickIntervalMs: number): void {
    const silenceLimit = 2 * tickIntervalMs;
    this.keepalive = setInterval(
      () => {
        if (Date.now() - this.lastFrameAt <= silenceLimit) return;
        this.closeError = new GatewayError({ code: 'DISCONNECTED', message: `no frame for ${silenceLimit} ms (2 × tickIntervalMs)` });
        this.ws.close(TICK_TIMEOUT_CLOSE, 'tick timeout');
        // a dead peer never completes the closing handshake
        setTimeout(() => this.ws.terminate(), 1000).unref();
      },
      Math.max(50, Math.floor(tickIntervalMs / 4)),
    );
    this.keepalive.unref();
  }

  private onSocketClose(code: number, reason: string): void {
    if (this.keepalive) clearInterval(this.keepalive);
    const error =
      this.closeError ??
      new GatewayError({ code: 'DISCONNECTED', message: `socket closed (${code}${reason ? ` ${scrubSecret(reason, this.opts.token)}` : ''})` });
    for (const waiter of this.waiters.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new GatewayError({ code: 'DISCONNECTED', method: waiter.method, message: error.message }));
    }
    this.waiters.clear();
    if (!this.established) {
      this.failHandshake?.(error);
      return;
    }
    this.opts.onClose(this.closedByUs ? null : error);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  async close(): Promise<void> {
    this.closedByUs = true;
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000, 'client closing');
      setTimeout(() => this.ws.terminate(), 2000).unref();
    });
  }
}
