/**
 * WebSocket side of the simulator: the real handshake (challenge → connect → hello-ok, with the real
 * error shapes and close codes), id-matched responses, and event fan-out by scope and subscription.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';
import { ADVERTISED_EVENTS, ADVERTISED_METHODS, MethodError, authorize, chatHistory, execApprovalList, sessionsList, sessionsUsage } from './methods.js';
import type { GatewayState, SimEvent } from './state.js';

const PROTOCOL = 4;
const HANDSHAKE_TIMEOUT_MS = 15_000;

interface Conn {
  ws: WebSocket;
  connId: string;
  scopes: string[] | null; // null until hello
  subscribed: boolean;
  seq: number;
}

export interface ProtocolServerOptions {
  token: string;
  tickIntervalMs: number;
  version: string;
}

export class ProtocolServer {
  readonly wss: WebSocketServer;
  private readonly conns = new Set<Conn>();
  private bootId = randomUUID();
  private startedAt = Date.now();
  private readonly ticker: NodeJS.Timeout;
  /** requests received per method (control API `GET /gateway/calls`): what a client costs the gateway */
  calls: Record<string, number> = {};

  constructor(
    private readonly state: GatewayState,
    private readonly opts: ProtocolServerOptions,
    serverOpts: { host: string; port: number },
  ) {
    this.wss = new WebSocketServer({ host: serverOpts.host, port: serverOpts.port, maxPayload: 26_214_400 });
    this.wss.on('connection', (ws, req) => this.accept(ws, req));
    this.ticker = setInterval(() => this.broadcast((c) => c.scopes !== null, 'tick', { ts: Date.now() }), opts.tickIntervalMs);
    this.ticker.unref();
  }

  get boot(): { bootId: string; startedAt: number } {
    return { bootId: this.bootId, startedAt: this.startedAt };
  }

  private send(conn: Conn, frame: Record<string, unknown>): void {
    if (conn.ws.readyState === WebSocket.OPEN) conn.ws.send(JSON.stringify(frame));
  }

  private event(conn: Conn, event: string, payload: unknown): void {
    this.send(conn, { type: 'event', event, payload, seq: ++conn.seq });
  }

  private broadcast(filter: (c: Conn) => boolean, event: string, payload: unknown): void {
    for (const conn of this.conns) if (filter(conn)) this.event(conn, event, payload);
  }

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const conn: Conn = { ws, connId: randomUUID(), scopes: null, subscribed: false, seq: 0 };
    this.conns.add(conn);
    const origin = req.headers.origin;
    const timer = setTimeout(() => ws.close(1008, 'handshake timeout'), HANDSHAKE_TIMEOUT_MS);
    ws.on('close', () => {
      clearTimeout(timer);
      this.conns.delete(conn);
    });
    ws.on('message', (data) => {
      let frame: { type?: unknown; id?: unknown; method?: unknown; params?: unknown };
      try {
        frame = JSON.parse(data.toString()) as typeof frame;
      } catch {
        ws.close(1008, 'invalid frame');
        return;
      }
      if (frame.type !== 'req' || typeof frame.id !== 'string' || typeof frame.method !== 'string') {
        this.send(conn, { type: 'res', id: typeof frame.id === 'string' ? frame.id : '', ok: false, error: { code: 'INVALID_REQUEST', message: 'invalid request frame' } });
        return;
      }
      if (conn.scopes === null) {
        clearTimeout(timer);
        this.handshake(conn, frame.id, frame.method, frame.params, origin);
        return;
      }
      this.dispatch(conn, frame.id, frame.method, frame.params);
    });
    this.event(conn, 'connect.challenge', { nonce: randomUUID(), ts: Date.now(), capabilities: ['model-catalog-snapshot'] });
  }

  private reject(conn: Conn, id: string, closeCode: number, code: string, message: string, details?: Record<string, unknown>): void {
    this.send(conn, { type: 'res', id, ok: false, error: { code, message, ...(details ? { details } : {}) } });
    conn.ws.close(closeCode, message.slice(0, 120));
  }

  private handshake(conn: Conn, id: string, method: string, raw: unknown, origin: string | undefined): void {
    if (method !== 'connect') {
      this.reject(conn, id, 1008, 'INVALID_REQUEST', 'invalid handshake: first request must be connect');
      return;
    }
    const p = (raw ?? {}) as {
      minProtocol?: unknown;
      maxProtocol?: unknown;
      client?: { id?: unknown; mode?: unknown; version?: unknown; platform?: unknown };
      scopes?: unknown;
      auth?: { token?: unknown };
    };
    if (typeof p.minProtocol !== 'number' || typeof p.maxProtocol !== 'number' || typeof p.client?.id !== 'string' || typeof p.client.mode !== 'string') {
      this.reject(conn, id, 1008, 'INVALID_REQUEST', 'invalid connect params: must have required properties minProtocol, maxProtocol, client');
      return;
    }
    if (p.minProtocol > PROTOCOL || p.maxProtocol < PROTOCOL) {
      this.reject(conn, id, 1002, 'INVALID_REQUEST', 'protocol mismatch', {
        code: 'PROTOCOL_MISMATCH',
        clientMinProtocol: p.minProtocol,
        clientMaxProtocol: p.maxProtocol,
        expectedProtocol: PROTOCOL,
        minimumProbeProtocol: 3,
      });
      return;
    }
    const token = p.auth?.token;
    if (typeof token !== 'string' || token.length === 0) {
      this.reject(conn, id, 1008, 'INVALID_REQUEST', 'unauthorized: gateway token missing (provide gateway auth token)', {
        code: 'AUTH_TOKEN_MISSING',
        authReason: 'token_missing',
        canRetryWithDeviceToken: false,
        recommendedNextStep: 'update_auth_credentials',
      });
      return;
    }
    if (token !== this.opts.token) {
      this.reject(conn, id, 1008, 'INVALID_REQUEST', 'unauthorized: gateway token mismatch (provide gateway auth token)', {
        code: 'AUTH_TOKEN_MISMATCH',
        authReason: 'token_mismatch',
        canRetryWithDeviceToken: false,
        recommendedNextStep: 'update_auth_credentials',
      });
      return;
    }
    const requested = Array.isArray(p.scopes) ? p.scopes.filter((s): s is string => typeof s === 'string') : [];
    // without a device identity only local backend/cli clients keep their scopes (§4)
    const trusted = !origin && ((p.client.id === 'gateway-client' && p.client.mode === 'backend') || (p.client.id === 'cli' && p.client.mode === 'cli'));
    conn.scopes = trusted ? requested : [];
    this.send(conn, {
      type: 'res',
      id,
      ok: true,
      payload: {
        type: 'hello-ok',
        protocol: PROTOCOL,
        server: { version: this.opts.version, buildId: `${this.opts.version}-sandbox`, bootId: this.bootId, connId: conn.connId },
        features: { methods: ADVERTISED_METHODS, events: ADVERTISED_EVENTS },
        snapshot: {
          presence: [],
          health: {},
          stateVersion: { presence: 0, health: 0 },
          uptimeMs: Date.now() - this.startedAt,
          sessionDefaults: { defaultAgentId: 'main', mainKey: 'main', mainSessionKey: 'agent:main:main', scope: 'per-sender' },
        },
        auth: { method: 'token', role: 'operator', scopes: conn.scopes },
        policy: { maxPayload: 26_214_400, maxBufferedBytes: 52_428_800, tickIntervalMs: this.opts.tickIntervalMs, attachments: { maxBytes: 19_464_192, maxImageBytes: 6_291_456 } },
      },
    });
  }

  private dispatch(conn: Conn, id: string, method: string, params: unknown): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    const scopes = conn.scopes ?? [];
    try {
      authorize(method, scopes);
      let payload: unknown;
      switch (method) {
        case 'sessions.list':
          payload = sessionsList(this.state, params);
          break;
        case 'sessions.subscribe': {
          const list = sessionsList(this.state, params, 'sessions.subscribe');
          conn.subscribed = true;
          payload = params && typeof params === 'object' && Object.keys(params).length > 0 ? { subscribed: true, list } : { subscribed: true };
          break;
        }
        case 'chat.history':
          payload = chatHistory(this.state, params);
          break;
        case 'sessions.usage':
          payload = sessionsUsage(this.state, params);
          break;
        case 'exec.approval.list':
          payload = execApprovalList(this.state, params, scopes);
          break;
        case 'health':
          payload = { ok: true, ts: Date.now() };
          break;
        default:
          throw new MethodError('INVALID_REQUEST', `unknown method: ${method}`);
      }
      this.send(conn, { type: 'res', id, ok: true, payload });
    } catch (error) {
      const e = error instanceof MethodError ? error : new MethodError('UNAVAILABLE', 'internal error');
      this.send(conn, { type: 'res', id, ok: false, error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } });
    }
  }

  /** delivers state changes the way the real gateway fans them out */
  publish(events: SimEvent[]): void {
    const canRead = (c: Conn) => c.scopes !== null && (c.scopes.includes('operator.read') || c.scopes.includes('operator.admin'));
    for (const e of events) {
      if (e.kind === 'session') {
        const payload = { sessionKey: e.key, agentId: e.row?.agentId ?? 'main', reason: e.reason, ts: Date.now(), ...(e.row ? { session: e.row } : {}) };
        this.broadcast((c) => c.subscribed && canRead(c), 'sessions.changed', payload);
      } else if (e.kind === 'chat') {
        // chat events reach every reader, subscribed or not (§12)
        this.broadcast(canRead, 'chat', e.payload);
      } else {
        // only connections that can see the approval record get its events
        this.broadcast((c) => c.scopes?.includes('operator.admin') ?? false, e.resolved ? 'exec.approval.resolved' : 'exec.approval.requested', e.payload);
      }
    }
  }

  /** a gateway restart: `shutdown`, close 1012 for everyone, then a new boot */
  restart(): void {
    for (const conn of this.conns) {
      if (conn.scopes !== null) this.event(conn, 'shutdown', { reason: 'restart', restartExpectedMs: 0 });
      conn.ws.close(1012, 'service restart');
    }
    this.bootId = randomUUID();
    this.startedAt = Date.now();
  }

  async close(): Promise<void> {
    clearInterval(this.ticker);
    for (const conn of this.conns) conn.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}
