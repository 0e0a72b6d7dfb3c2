/**
 * The test's own operator connection that DRIVES the real gateway (chat.send, approvals).
 * Deliberately independent of src/clients/gateway so the client under test is checked by a second
 * implementation of the handshake. It connects with write/admin scopes and the exec-approvals cap,
 * which keeps approval requests waiting instead of failing as "no-approval-route" (§11).
 */
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';

export interface DriverEvent {
  event: string;
  payload: unknown;
}

export class GatewayDriver {
  readonly events: DriverEvent[] = [];
  private readonly pending = new Map<string, { ok: (v: unknown) => void; fail: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as {
        type: string;
        id?: string;
        ok?: boolean;
        payload?: unknown;
        error?: { code?: string; message?: string };
        event?: string;
      };
      if (frame.type === 'event' && frame.event) this.events.push({ event: frame.event, payload: frame.payload });
      if (frame.type === 'res' && frame.id) {
        const waiter = this.pending.get(frame.id);
        this.pending.delete(frame.id);
        if (frame.ok) waiter?.ok(frame.payload);
        else waiter?.fail(new Error(`${frame.error?.code ?? 'ERROR'}: ${frame.error?.message ?? 'request failed'}`));
      }
    });
    ws.on('close', () => {
      for (const waiter of this.pending.values()) waiter.fail(new Error('driver connection closed'));
      this.pending.clear();
    });
  }

  static async connect(url: string, token: string, timeoutMs = 15_000): Promise<GatewayDriver> {
    const ws = new WebSocket(url);
    const driver = new GatewayDriver(ws);
    const challenge = new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error('no connect.challenge')), timeoutMs);
      ws.on('message', (data) => {
        if ((JSON.parse(data.toString()) as { event?: string }).event === 'connect.challenge') {
          clearTimeout(timer);
          ok();
        }
      });
      ws.once('error', fail);
    });
    await challenge;
    await driver.request('connect', {
      minProtocol: 3,
      maxProtocol: 4,
      client: { id: 'gateway-client', version: 'contract-driver', platform: process.platform, mode: 'backend' },
      role: 'operator',
      scopes: ['operator.read', 'operator.write', 'operator.admin', 'operator.approvals'],
      caps: ['exec-approvals'],
      auth: { token },
    });
    return driver;
  }

  request(method: string, params: unknown, timeoutMs = 15_000): Promise<unknown> {
    const id = randomUUID();
    return new Promise((ok, fail) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        fail(new Error(`${method} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        ok: (v) => {
          clearTimeout(timer);
          ok(v);
        },
        fail: (e) => {
          clearTimeout(timer);
          fail(e);
        },
      });
      this.ws.send(JSON.stringify({ type: 'req', id, method, params }));
    });
  }

  /** starts a turn; the run proceeds in the background */
  send(sessionKey: string, message: string, timeoutMs?: number): Promise<unknown> {
    return this.request('chat.send', { sessionKey, message, idempotencyKey: randomUUID() }, timeoutMs);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((ok) => {
      this.ws.once('close', () => ok());
      this.ws.close();
    });
  }
}
