import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import type { GatewaySimulator } from '../../sandbox/gateway/index.js';
import { startSimulatorWithControl } from '../../../test/support/gateway-sim.js';
import type { ExecApproval } from '../../model/index.js';
import type { HelloInfo } from './api.js';
import { GatewayClient } from './client.js';
import { GatewayError } from './errors.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function simWithControl(opts: { tickIntervalMs?: number } = {}) {
  const { sim, control, close } = await startSimulatorWithControl(opts);
  cleanups.push(close);
  return { sim, control };
}

function client(sim: Pick<GatewaySimulator, 'url' | 'token'>, extra: Partial<ConstructorParameters<typeof GatewayClient>[0]> = {}) {
  const c = new GatewayClient({ url: sim.url, token: sim.token, clientVersion: 'test', backoff: { baseMs: 10, maxMs: 100 }, ...extra });
  cleanups.push(() => c.close());
  return c;
}

/** a hand-scripted gateway for shapes the simulator never sends */
async function stubGateway(onReq: (method: string, params: unknown, attempt: number) => { ok: boolean; payload?: unknown; error?: unknown } | null) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((ok) => wss.once('listening', ok));
  let connects = 0;
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ type: 'event', event: 'connect.challenge', payload: { nonce: 'n', ts: Date.now() } }));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { id: string; method: string; params: unknown };
      if (frame.method === 'connect') connects++;
      const answer = onReq(frame.method, frame.params, connects);
      if (answer) ws.send(JSON.stringify({ type: 'res', id: frame.id, ...answer }));
    });
  });
  cleanups.push(async () => {
    for (const ws of wss.clients) ws.terminate();
    await new Promise<void>((ok) => wss.close(() => ok()));
  });
  return { url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, token: 'stub-token', connects: () => connects };
}

const hello = (tickIntervalMs = 30_000) => ({
  ok: true,
  payload: { type: 'hello-ok', protocol: 4, server: { version: 'stub', bootId: 'b1' }, features: { methods: [] }, snapshot: { uptimeMs: 5 }, auth: { scopes: ['operator.read'] }, policy: { tickIntervalMs } },
});

describe('GatewayClient against the simulator', () => {
  it('parses hello-ok and pages sessions.list until hasMore is false', async () => {
    const { sim, control } = await simWithControl();
    for (let i = 0; i < 250; i++) await control('PUT', `/sessions/${encodeURIComponent(`agent:main:t-${i}`)}`, { status: 'done' });
    const c = client(sim);
    const info = await c.connect();
    expect(info.protocol).toBe(4);
    expect(info.scopes).toEqual(['operator.read', 'operator.approvals']);
    const { sessions, requests, rejected } = await c.listSessions();
    expect(sessions).toHaveLength(250);
    expect(new Set(sessions.map((s) => s.key)).size).toBe(250);
    expect(requests).toBe(2);
    expect(rejected).toEqual([]);
  });

  it('turns sessions.changed and chat events into session keys, including the spawning parent', async () => {
    const { sim, control } = await simWithControl();
    const changed: string[] = [];
    const c = client(sim, { events: { onSessionChanged: (k) => changed.push(k) } });
    await c.connect();
    await control('PUT', `/sessions/${encodeURIComponent('agent:main:parent')}`, { status: 'running' });
    await control('PUT', `/sessions/${encodeURIComponent('agent:main:subagent:1')}`, { status: 'running', spawnedBy: 'agent:main:parent' });
    await until('child and parent keys', () => (changed.includes('agent:main:subagent:1') && changed.filter((k) => k === 'agent:main:parent').length >= 2 ? true : undefined));
    const history = await c.chatHistory('agent:main:parent', 10);
    expect(history).toEqual([]);
  });

  it('flattens chat history to role, text and epoch-ms timestamps', async () => {
    const { sim, control } = await simWithControl();
    const key = encodeURIComponent('agent:main:h');
    await control('PUT', `/sessions/${key}`, { status: 'running', messages: [{ role: 'user', text: 'do it', timestamp: 1_700_000_000_000 }] });
    await control('POST', `/sessions/${key}/messages`, { role: 'assistant', text: 'done it' });
    const c = client(sim);
    await c.connect();
    const messages = await c.chatHistory('agent:main:h', 10);
    expect(messages.map((m) => [m.role, m.text])).toEqual([['user', 'do it'], ['assistant', 'done it']]);
    expect(messages[0]?.timestamp).toBe(1_700_000_000_000);
    expect(messages[1]?.timestamp).toBeGreaterThan(1_700_000_000_000);
    expect(await c.chatHistory('agent:main:h', 1)).toHaveLength(1);
  });

  it('reports usage as not fresh while the cache refreshes, then the cumulative totals', async () => {
    const { sim, control } = await simWithControl();
    await control('PUT', `/sessions/${encodeURIComponent('agent:main:u')}`, { status: 'done', usage: { costUsd: 0.5, inputTokens: 10, outputTokens: 2 } });
    const c = client(sim);
    await c.connect();
    expect(await c.sessionUsage('agent:main:u')).toEqual({ key: 'agent:main:u', totalCostUsd: null, inputTokens: null, outputTokens: null, fresh: false });
    expect(await c.sessionUsage('agent:main:u')).toEqual({ key: 'agent:main:u', totalCostUsd: 0.5, inputTokens: 10, outputTokens: 2, fresh: true });
  });

  it('reads an absurd usage cost (1e308) as no cost rather than a number that sums to Infinity', async () => {
    const { sim, control } = await simWithControl();
    await control('PUT', `/sessions/${encodeURIComponent('agent:main:wild')}`, { status: 'done', usage: { costUsd: 1e308, inputTokens: 10, outputTokens: 2 } });
    const c = client(sim);
    await c.connect();
    await c.sessionUsage('agent:main:wild');
    expect(await c.sessionUsage('agent:main:wild')).toMatchObject({ totalCostUsd: null, inputTokens: 10, fresh: true });
  });

  it('receives exec approval events and lists approvals when it holds operator.admin', async () => {
    const { sim, control } = await simWithControl();
    const seen: [ExecApproval, boolean][] = [];
    const c = client(sim, { scopes: ['operator.read', 'operator.admin'], events: { onExecApproval: (a, resolved) => seen.push([a, resolved]) } });
    await c.connect();
    const key = encodeURIComponent('agent:main:a');
    await control('PUT', `/sessions/${key}`, { status: 'running', pendingApproval: { command: 'rm -rf /x' } });
    const listed = await c.listExecApprovals();
    expect(listed.map((a) => [a.sessionKey, a.command])).toEqual([['agent:main:a', 'rm -rf /x']]);
    await control('PUT', `/sessions/${key}`, { status: 'running', pendingApproval: null });
    await until('requested and resolved events', () => (seen.length >= 2 ? true : undefined));
    expect(seen.map(([a, resolved]) => [a.sessionKey, resolved])).toEqual([['agent:main:a', false], ['agent:main:a', true]]);
    expect(await c.listExecApprovals()).toEqual([]);
  });

  it('reconnects after a gateway restart, reports bootChanged and re-subscribes', async () => {
    const { sim, control } = await simWithControl();
    const hellos: [HelloInfo, boolean][] = [];
    const changed: string[] = [];
    const c = client(sim, { events: { onHello: (h, b) => hellos.push([h, b]), onSessionChanged: (k) => changed.push(k) } });
    await c.connect();
    await control('POST', '/gateway/restart');
    await until('a second hello', () => (hellos.length >= 2 ? true : undefined));
    expect(hellos[0]?.[1]).toBe(false);
    expect(hellos[1]?.[1]).toBe(true);
    expect(hellos[1]?.[0].bootId).not.toBe(hellos[0]?.[0].bootId);
    expect(hellos[1]?.[0].uptimeMs).toBeLessThan(5000);
    await control('PUT', `/sessions/${encodeURIComponent('agent:main:after')}`, { status: 'running' });
    await until('an event after the restart', () => (changed.includes('agent:main:after') ? true : undefined));
  });

  it('fails a wrong token with a typed error that does not contain the token, and does not retry it', async () => {
    const { sim } = await simWithControl();
    const secret = 'a-very-secret-wrong-token';
    const c = client({ url: sim.url, token: secret }, { reconnect: false });
    const error = (await c.connect().catch((e: unknown) => e)) as GatewayError;
    expect(error).toBeInstanceOf(GatewayError);
    expect(error.detailCode).toBe('AUTH_TOKEN_MISMATCH');
    expect(error.isAuthFailure).toBe(true);
    expect(error.message).not.toContain(secret);
    await expect(c.listSessions()).rejects.toMatchObject({ code: 'DISCONNECTED' });
  });
});

describe('GatewayClient against scripted gateways', () => {
  it('skips malformed session rows into rejected and keeps the rest', async () => {
    const stub = await stubGateway((method) => {
      if (method === 'connect') return hello();
      if (method === 'sessions.list') {
        return { ok: true, payload: { sessions: [{ key: 'agent:main:ok', status: 'done', extra: { grows: true } }, { status: 'done' }, { key: 'agent:main:bad', updatedAt: 'yesterday' }], hasMore: false } };
      }
      return { ok: true, payload: {} };
    });
    const c = client(stub);
    await c.connect();
    const { sessions, rejected } = await c.listSessions();
    expect(sessions.map((s) => s.key)).toEqual(['agent:main:ok']);
    expect(rejected.map((r) => r.key)).toEqual([null, 'agent:main:bad']);
  });

  it('stops paging a gateway that keeps saying hasMore without progress', async () => {
    const stub = await stubGateway((method) => {
      if (method === 'connect') return hello();
      if (method === 'sessions.list') return { ok: true, payload: { sessions: [{ key: 'agent:main:same' }], hasMore: true, nextOffset: 0 } };
      return { ok: true, payload: {} };
    });
    const c = client(stub);
    await c.connect();
    const { sessions, requests } = await c.listSessions();
    expect(sessions).toHaveLength(1);
    expect(requests).toBe(1);
  });

  it('retries connect while the gateway answers retryable UNAVAILABLE (startup)', async () => {
    const stub = await stubGateway((method, _params, attempt) => {
      if (method !== 'connect') return { ok: true, payload: {} };
      if (attempt < 3) return { ok: false, error: { code: 'UNAVAILABLE', message: 'starting', retryable: true, retryAfterMs: 10, details: { reason: 'startup-sidecars' } } };
      return hello();
    });
    const c = client(stub);
    const info = await c.connect();
    expect(info.bootId).toBe('b1');
    expect(stub.connects()).toBe(3);
  });

  it('treats 2 × tickIntervalMs of silence as a dead connection and reconnects', async () => {
    const stub = await stubGateway((method) => (method === 'connect' ? hello(100) : { ok: true, payload: {} }));
    const disconnects: (Error | null)[] = [];
    const c = client(stub, { events: { onDisconnect: (e) => disconnects.push(e) } });
    await c.connect();
    await until('a tick-timeout disconnect', () => (disconnects.length >= 1 ? true : undefined));
    expect(disconnects[0]?.message).toMatch(/tickIntervalMs/);
    await until('a reconnect', () => (stub.connects() >= 2 ? true : undefined));
  });

  it('times out a request the gateway never answers', async () => {
    const stub = await stubGateway((method) => (method === 'connect' ? hello() : null));
    const c = client(stub, { requestTimeoutMs: 200 });
    await c.connect();
    await expect(c.listExecApprovals()).rejects.toMatchObject({ code: 'TIMEOUT', method: 'exec.approval.list' });
  });
});
