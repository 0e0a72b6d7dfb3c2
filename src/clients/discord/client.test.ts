import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../../sandbox/index.js';
import { control } from '../../sandbox/testing/client.js';
import { escapeUntrusted, fitMessage, nonceFor } from '../../model/discord-text.js';
import { DiscordClient } from './client.js';
import { DiscordApiError, DiscordError, DiscordRateLimitedError, DiscordTimeoutError, DiscordUnavailableError } from './errors.js';

let sandbox: SandboxHandle;
let proxy: Server;
let proxyUrl: string;
/** request bodies as they reached the wire, seen by a pass-through proxy in front of the fake */
const seen: { method: string; path: string; body: any }[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
  const target = new URL(sandbox.info.discordApiUrl);
  proxy = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    seen.push({ method: req.method ?? '', path: req.url ?? '', body: text ? JSON.parse(text) : undefined });
    const upstream = await fetch(`${target.origin}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => ['authorization', 'content-type'].includes(k)) as [string, string][],
      ),
      body: text || undefined,
    });
    const headers: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (k.startsWith('x-ratelimit') || k === 'retry-after' || k === 'content-type') headers[k] = v;
    });
    res.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/api`;
});
afterAll(async () => {
  await new Promise<void>((r) => proxy.close(() => r()));
  await sandbox.close();
});
beforeEach(async () => {
  seen.length = 0;
  await control(sandbox.info, 'PUT', '/faults', {});
});

const channel = () => sandbox.info.discordChannelId;
const client = (over: Partial<ConstructorParameters<typeof DiscordClient>[0]> = {}) =>
  new DiscordClient({ token: sandbox.info.discordBotToken, apiUrl: proxyUrl, postDeadlineMs: 5_000, ...over });
const stats = async () => (await control(sandbox.info, 'GET', '/stats')).body.discord as Record<string, number>;
const stored = async () =>
  (await control(sandbox.info, 'GET', `/discord/messages?channel=${channel()}`)).body.messages as { id: string; content: string; nonce: string }[];

describe('DiscordClient against the sandbox Discord', () => {
  it('posts with mentions disabled and an enforced nonce, and reads it back', async () => {
    const c = client();
    const content = escapeUntrusted('@everyone the build is green <@&123456789012345678>');
    const msg = await c.post({ channelId: channel(), content, nonce: nonceFor('k-post-1') });
    expect(msg).toMatchObject({ channelId: channel(), content, nonce: nonceFor('k-post-1') });
    expect(msg.id).toMatch(/^\d+$/);
    expect(msg.createdAt).toBeGreaterThan(0);

    const post = seen.find((s) => s.method === 'POST')!;
    expect(post.path).toBe(`/api/v10/channels/${channel()}/messages`);
    expect(post.body).toEqual({ content, allowed_mentions: { parse: [] }, nonce: nonceFor('k-post-1'), enforce_nonce: true });

    const recent = await c.recent(channel(), 50);
    expect(recent.map((m) => m.id)).toContain(msg.id);
  });

  it('warms up without calling Discord; a post made while the warm-up is still loading goes out once', async () => {
    const c = client();
    await c.warm();
    expect(seen).toEqual([]);
    // the post waits on the same load the warm-up started (whether one REST client serves both is not visible
    // from the wire; the memoised #client() is what keeps one rate-limit queue)
    const cold = client();
    const [, msg] = await Promise.all([cold.warm(), cold.post({ channelId: channel(), content: 'after warm-up', nonce: nonceFor('k-warm-1') })]);
    expect(seen.filter((s) => s.method === 'POST')).toHaveLength(1);
    expect((await stored()).filter((m) => m.id === msg.id)).toHaveLength(1);
  });

  it('sends no ANSI escape, control character or bidi override, whatever the caller passed', async () => {
    const nonce = nonceFor('k-invisible');
    await client().post({
      channelId: channel(),
      content: 'Resultado: \u001b[31mfailed\u001b[0m\u0007 report\u202etxt.exe',
      embeds: [{ description: '\u2066more\u2069\u0000 text' }],
      nonce,
    });
    const post = seen.find((s) => s.method === 'POST')!.body as { content: string; embeds: { description: string }[] };
    expect(post.content).toBe('Resultado: failed reporttxt.exe');
    expect(post.embeds[0]!.description).toBe('more text');
    expect((await stored()).find((m) => m.nonce === nonce)?.content).toBe('Resultado: failed reporttxt.exe');
  });

  it('a retried nonce yields the first message, not a second one', async () => {
    const c = client();
    const before = await stats();
    const nonce = nonceFor('k-dedupe');
    const a = await c.post({ channelId: channel(), content: 'exactly once', nonce });
    const b = await c.post({ channelId: channel(), content: 'exactly once', nonce });
    expect(b.id).toBe(a.id);
    const after = await stats();
    expect(after.created! - before.created!).toBe(1);
    expect((await stored()).filter((m) => m.nonce === nonce)).toHaveLength(1);
  });

  it('rides out a 429 storm: Retry-After respected, same nonce, every message once', async () => {
    await control(sandbox.info, 'PUT', '/faults', { discord: { rateLimitEvery: 2, retryAfterSeconds: 1 } });
    const c = client({ postDeadlineMs: 10_000 });
    const before = await stats();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await c.post({ channelId: channel(), content: `storm ${i}`, nonce: nonceFor(`k-storm-${i}`) })).id);
    const after = await stats();
    expect(new Set(ids).size).toBe(4);
    expect(after.created! - before.created!).toBe(4);
    expect(after.rateLimited! - before.rateLimited!).toBeGreaterThanOrEqual(2);
    // each retry re-sent the same nonce
    const posts = seen.filter((s) => s.method === 'POST');
    for (const p of posts) expect(p.body.nonce).toBe(nonceFor(`k-storm-${p.body.content.slice(-1)}`));
  });

  it('turns a long Retry-After into a typed error at once instead of sleeping', async () => {
    await control(sandbox.info, 'PUT', '/faults', { discord: { rateLimitEvery: 1, retryAfterSeconds: 30 } });
    const c = client({ postDeadlineMs: 15_000 });
    const started = Date.now();
    const err = await c.post({ channelId: channel(), content: 'later', nonce: nonceFor('k-long-wait') }).catch((e) => e);
    expect(err).toBeInstanceOf(DiscordRateLimitedError);
    expect((err as DiscordRateLimitedError).retryAfterMs).toBeGreaterThanOrEqual(30_000);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('gives up at its own deadline and sends nothing afterwards', async () => {
    await control(sandbox.info, 'PUT', '/faults', { discord: { rateLimitEvery: 1, retryAfterSeconds: 2 } });
    const c = client({ postDeadlineMs: 800, maxRateLimitWaitMs: 5_000 });
    const before = await stats();
    const err = await c.post({ channelId: channel(), content: 'too slow', nonce: nonceFor('k-deadline') }).catch((e) => e);
    expect(err).toBeInstanceOf(DiscordTimeoutError);
    // lift the fault: a library retry after its 2 s sleep would now succeed, if it were still allowed to run
    await control(sandbox.info, 'PUT', '/faults', {});
    await new Promise((r) => setTimeout(r, 2_600));
    const after = await stats();
    expect(after.created! - before.created!).toBe(0);
  });

  it('refuses a 2001-character content locally; fitMessage output of a 3000-char result is accepted', async () => {
    const c = client();
    const before = await stats();
    const err = await c.post({ channelId: channel(), content: 'x'.repeat(2001), nonce: nonceFor('k-2001') }).catch((e) => e);
    expect(err).toBeInstanceOf(DiscordError);
    expect((err as DiscordError).permanent).toBe(true);
    expect((await stats()).posts).toBe(before.posts);

    const fitted = fitMessage({ header: ['Task: t'], bodyLabel: 'Resultado: ', body: 'y'.repeat(3000) });
    const msg = await c.post({ channelId: channel(), ...fitted, nonce: nonceFor('k-3000') } as never);
    expect(msg.id).toBeTruthy();
    const row = (await stored()).find((m) => m.id === msg.id) as unknown as { embeds: { description: string }[] };
    expect(row.embeds[0]!.description.length).toBeGreaterThan(900);
  });

  it('reports Discord error codes, never the token', async () => {
    const bad = new DiscordClient({ token: 'not-the-token-SECRET', apiUrl: proxyUrl, postDeadlineMs: 5_000 });
    const unauthorized = await bad.post({ channelId: channel(), content: 'x', nonce: 'n1' }).catch((e) => e);
    expect(unauthorized).toBeInstanceOf(DiscordApiError);
    expect((unauthorized as DiscordApiError).status).toBe(401);
    expect(String(unauthorized.message) + String(unauthorized.stack)).not.toContain('SECRET');
    // the library drops the token after a 401; the next call still authenticates and reports the same
    const again = await bad.recent(channel(), 5).catch((e) => e);
    expect((again as DiscordApiError).status).toBe(401);

    const unknown = await client().post({ channelId: '123', content: 'x', nonce: 'n2' }).catch((e) => e);
    expect(unknown).toBeInstanceOf(DiscordApiError);
    expect(unknown).toMatchObject({ status: 404, code: 10003, permanent: true });
    expect(String(unknown.message)).not.toContain(sandbox.info.discordBotToken);
  });

  it('reads a channel without posting (the doctor check): the channel, a 404 for an unknown one, a 401 for a bad token', async () => {
    const before = await stats();
    expect(await client().channel(channel())).toMatchObject({ id: channel(), type: expect.any(Number) });
    expect(await client().channel('123').catch((e) => e)).toMatchObject({ status: 404, code: 10003 });
    const refused = await new DiscordClient({ token: 'not-the-token-SECRET', apiUrl: proxyUrl, postDeadlineMs: 5_000 }).channel(channel()).catch((e) => e);
    expect(refused).toBeInstanceOf(DiscordApiError);
    expect(refused).toMatchObject({ status: 401 });
    expect((await stats()).posts).toBe(before.posts);
    expect(seen.every((r) => r.method === 'GET')).toBe(true);
  });

  it('reports an unreachable Discord as unavailable, quickly', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const c = new DiscordClient({ token: 'tok', apiUrl: `http://127.0.0.1:${port}/api`, postDeadlineMs: 3_000 });
    const err = await c.post({ channelId: '1', content: 'x', nonce: 'n3' }).catch((e) => e);
    expect(err).toBeInstanceOf(DiscordUnavailableError);
  });

  it('stops when the caller aborts', async () => {
    await control(sandbox.info, 'PUT', '/faults', { discord: { rateLimitEvery: 1, retryAfterSeconds: 2 } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    const err = await client()
      .post({ channelId: channel(), content: 'cancelled', nonce: nonceFor('k-abort') }, { signal: ac.signal })
      .catch((e) => e);
    expect(err).toBeInstanceOf(DiscordError);
    expect(String(err.message)).toMatch(/cancelled/);
  });
});
