/** Protocol details of the simulator that mirror the real gateway (openclaw-gateway.md §3–§7). */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startSimulatorWithControl } from '../../../test/support/gateway-sim.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(opts: { tickIntervalMs?: number } = {}) {
  const { sim, control, close } = await startSimulatorWithControl(opts);
  cleanups.push(close);
  return { sim, control };
}

/** raw protocol client: collects frames and the close code */
async function raw(url: string) {
  const ws = new WebSocket(url);
  const frames: { type: string; id?: string; ok?: boolean; event?: string; payload?: any; error?: any }[] = [];
  let closed: { code: number } | null = null;
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  ws.on('close', (code) => (closed = { code }));
  cleanups.push(async () => ws.terminate());
  const wait = async <T>(probe: () => T | undefined): Promise<T> => {
    for (let i = 0; i < 250; i++) {
      const v = probe();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('timed out');
  };
  await wait(() => frames.find((f) => f.event === 'connect.challenge'));
  let n = 0;
  const req = async (method: string, params: unknown) => {
    const id = `r${++n}`;
    ws.send(JSON.stringify({ type: 'req', id, method, params }));
    return wait(() => frames.find((f) => f.type === 'res' && f.id === id));
  };
  return { req, frames, wait, closeCode: () => wait(() => closed?.code) };
}

const connectParams = (token: string, over: Record<string, unknown> = {}) => ({
  minProtocol: 3,
  maxProtocol: 4,
  client: { id: 'gateway-client', version: 't', platform: 'linux', mode: 'backend' },
  role: 'operator',
  scopes: ['operator.read'],
  caps: [],
  auth: { token },
  ...over,
});

describe('gateway simulator protocol', () => {
  it('requires connect first (1008) and rejects a protocol mismatch (1002)', async () => {
    const { sim } = await setup();
    const a = await raw(sim.url);
    expect((await a.req('sessions.list', {})).error).toMatchObject({ code: 'INVALID_REQUEST', message: 'invalid handshake: first request must be connect' });
    expect(await a.closeCode()).toBe(1008);
    const b = await raw(sim.url);
    const res = await b.req('connect', connectParams(sim.token, { minProtocol: 3, maxProtocol: 3 }));
    expect(res.error).toMatchObject({ code: 'INVALID_REQUEST', message: 'protocol mismatch', details: { code: 'PROTOCOL_MISMATCH', expectedProtocol: 4 } });
    expect(await b.closeCode()).toBe(1002);
  });

  it('clears scopes for non-backend clients without a device, like the real gateway', async () => {
    const { sim } = await setup();
    const c = await raw(sim.url);
    const hello = await c.req('connect', connectParams(sim.token, { client: { id: 'test', version: 't', platform: 'linux', mode: 'test' } }));
    expect(hello.payload.auth.scopes).toEqual([]);
    expect((await c.req('sessions.list', {})).error).toMatchObject({ code: 'FORBIDDEN', details: { code: 'MISSING_SCOPE', missingScope: 'operator.read' } });
  });

  it('validates params as closed objects and applies the default limit of 100', async () => {
    const { sim, control } = await setup();
    for (let i = 0; i < 120; i++) await control('PUT', `/sessions/agent:main:s${i}`, { status: 'running' });
    const c = await raw(sim.url);
    await c.req('connect', connectParams(sim.token));
    expect((await c.req('sessions.list', { bogus: 1 })).error.message).toBe("invalid sessions.list params: at root: unexpected property 'bogus'");
    expect((await c.req('chat.history', {})).error.message).toBe("invalid chat.history params: must have required property 'sessionKey'");
    const page = (await c.req('sessions.list', {})).payload;
    expect(page).toMatchObject({ count: 100, totalCount: 120, limitApplied: 100, nextOffset: 100, hasMore: true });
    const last = (await c.req('sessions.list', { offset: 100 })).payload;
    expect(last).toMatchObject({ count: 20, nextOffset: null, hasMore: false });
    expect((await c.req('nope.method', {})).error).toMatchObject({ code: 'FORBIDDEN', details: { missingScope: 'operator.admin' } });
  });

  it('sends ticks at policy.tickIntervalMs and a shutdown + 1012 on restart', async () => {
    const { sim, control } = await setup({ tickIntervalMs: 50 });
    const c = await raw(sim.url);
    const hello = await c.req('connect', connectParams(sim.token));
    expect(hello.payload.policy.tickIntervalMs).toBe(50);
    await c.wait(() => c.frames.find((f) => f.event === 'tick'));
    const restarted = (await (await control('POST', '/gateway/restart')).json()) as { bootId: string };
    expect(restarted.bootId).not.toBe(hello.payload.server.bootId);
    expect(await c.closeCode()).toBe(1012);
    expect(c.frames.some((f) => f.event === 'shutdown')).toBe(true);
  });

  it('shapes spawned rows like the real gateway and links the parent', async () => {
    const { sim, control } = await setup();
    await control('PUT', '/sessions/agent:main:p', { status: 'running', label: 'parent' });
    await control('PUT', '/sessions/agent:main:subagent:c1', { status: 'done', spawnedBy: 'agent:main:p', lastActivityAt: 1_700_000_000_000 });
    const c = await raw(sim.url);
    await c.req('connect', connectParams(sim.token));
    const rows = (await c.req('sessions.list', {})).payload.sessions as Record<string, unknown>[];
    const child = rows.find((r) => r.key === 'agent:main:subagent:c1')!;
    const parent = rows.find((r) => r.key === 'agent:main:p')!;
    expect(child).toMatchObject({ spawnedBy: 'agent:main:p', parentSessionKey: 'agent:main:p', classification: 'subagent', createdVia: 'spawn', spawnDepth: 1, status: 'done', hasActiveRun: false, lastActivityAt: 1_700_000_000_000, updatedAt: 1_700_000_000_000 });
    expect(parent).toMatchObject({ childSessions: ['agent:main:subagent:c1'], status: 'running', hasActiveRun: true, label: 'parent' });
    expect(parent).not.toHaveProperty('lastActivityAt');
  });
});

describe('gateway simulator control API', () => {
  it('validates bodies, 404s unknown sessions and deletes', async () => {
    const { control } = await setup();
    expect((await control('PUT', '/sessions/agent:main:x', { status: 'sleeping' })).status).toBe(400);
    expect((await control('PUT', '/sessions/agent:main:x', '{not json')).status).toBe(400);
    expect((await control('PUT', '/sessions/agent:main:x', { status: 'done', extra: 1 })).status).toBe(400);
    expect((await control('POST', '/sessions/agent:main:x/messages', { role: 'user', text: 'hi' })).status).toBe(404);
    expect((await control('PUT', '/sessions/agent:main:x', { status: 'done' })).status).toBe(200);
    expect((await control('POST', '/sessions/agent:main:x/messages', { role: 'user', text: 'hi' })).status).toBe(201);
    const held = (await (await control('GET', '/sessions')).json()) as { sessions: { key: string; messages: unknown[] }[] };
    expect(held.sessions.map((s) => [s.key, s.messages.length])).toEqual([['agent:main:x', 1]]);
    expect((await control('DELETE', '/sessions/agent:main:x')).status).toBe(204);
    expect((await control('DELETE', '/sessions/agent:main:x')).status).toBe(404);
    expect((await control('GET', '/unrelated')).status).toBe(404);
  });
});
