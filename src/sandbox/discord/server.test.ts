import { REST } from '@discordjs/rest';
import { Routes } from 'discord-api-types/v10';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../index.js';
import { control } from '../testing/client.js';

let sandbox: SandboxHandle;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
});
afterAll(() => sandbox.close());
beforeEach(async () => {
  await control(sandbox.info, 'PUT', '/faults', {});
});

async function discord(method: string, path: string, body?: unknown, token = sandbox.info.discordBotToken) {
  const res = await fetch(`${sandbox.info.discordApiUrl}/v10${path}`, {
    method,
    headers: { authorization: `Bot ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any, headers: res.headers };
}

const messages = (): string => `/channels/${sandbox.info.discordChannelId}/messages`;

describe('discord fake', () => {
  it('requires the bot token', async () => {
    const res = await discord('POST', messages(), { content: 'hi' }, 'wrong');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 0 });
  });

  it('answers the channel for reachability checks and 10003 for unknown channels', async () => {
    const ok = await discord('GET', `/channels/${sandbox.info.discordChannelId}`);
    expect(ok.body).toMatchObject({ id: sandbox.info.discordChannelId, type: 0 });
    const missing = await discord('GET', '/channels/123');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ message: 'Unknown Channel', code: 10003 });
  });

  it('posts a message and lists posts newest first, paging back with before', async () => {
    const a = await discord('POST', messages(), { content: 'first', allowed_mentions: { parse: [] } });
    const b = await discord('POST', messages(), { content: 'second', embeds: [{ title: 't', description: 'd' }] });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ channel_id: sandbox.info.discordChannelId, content: 'first', author: { bot: true } });
    expect(a.body.id).toMatch(/^\d{17,20}$/);
    const list = await discord('GET', `${messages()}?limit=2`);
    expect(list.body.map((m: any) => m.id)).toEqual([b.body.id, a.body.id]);
    const older = await discord('GET', `${messages()}?limit=1&before=${b.body.id}`);
    expect(older.body.map((m: any) => m.id)).toEqual([a.body.id]);
    expect((await discord('GET', `${messages()}?before=x`)).status).toBe(400);
  });

  it('deduplicates a nonce only within the window, which the control API sets', async () => {
    expect((await control(sandbox.info, 'GET', '/discord/settings')).body).toEqual({ nonceWindowMs: 300_000 });
    expect((await control(sandbox.info, 'PUT', '/discord/settings', { nonceWindowMs: -1 })).status).toBe(400);
    const set = await control(sandbox.info, 'PUT', '/discord/settings', { nonceWindowMs: 0 });
    expect(set).toMatchObject({ status: 200, body: { nonceWindowMs: 0 } });
    try {
      const first = await discord('POST', messages(), { content: 'w', nonce: 'window-0', enforce_nonce: true });
      const again = await discord('POST', messages(), { content: 'w', nonce: 'window-0', enforce_nonce: true });
      expect(again.body.id).not.toBe(first.body.id);
    } finally {
      await control(sandbox.info, 'PUT', '/discord/settings', { nonceWindowMs: 300_000 });
    }
  });

  it('returns the first message for a repeated nonce with enforce_nonce', async () => {
    const first = await discord('POST', messages(), { content: 'once', nonce: 'deliver-task-1', enforce_nonce: true });
    const again = await discord('POST', messages(), { content: 'once (retry)', nonce: 'deliver-task-1', enforce_nonce: true });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.content).toBe('once');
    const all = (await control(sandbox.info, 'GET', `/discord/messages?channel=${sandbox.info.discordChannelId}`)).body.messages;
    expect(all.filter((m: any) => m.nonce === 'deliver-task-1')).toHaveLength(1);
    // without enforce_nonce a repeated nonce creates a new message, like Discord
    const loose = await discord('POST', messages(), { content: 'loose', nonce: 'deliver-task-1' });
    expect(loose.body.id).not.toBe(first.body.id);
  });

  it('rejects too-long content and embeds with 50035, and empty messages', async () => {
    const long = await discord('POST', messages(), { content: 'x'.repeat(2001) });
    expect(long.status).toBe(400);
    expect(long.body).toMatchObject({ code: 50035, message: 'Invalid Form Body' });
    expect(long.body.errors.content._errors[0].code).toBe('BASE_TYPE_MAX_LENGTH');
    expect((await discord('POST', messages(), { content: 'x'.repeat(2000) })).status).toBe(200);
    const embed = await discord('POST', messages(), { content: 'e', embeds: [{ description: 'y'.repeat(4097) }] });
    expect(embed.status).toBe(400);
    expect(embed.body.errors.embeds['0'].description._errors).toHaveLength(1);
    const empty = await discord('POST', messages(), { content: '' });
    expect(empty.status).toBe(400);
    expect(empty.body.code).toBe(50006);
  });

  it('answers every N-th post with 429 + Retry-After under the fault', async () => {
    await control(sandbox.info, 'PUT', '/faults', { discord: { rateLimitEvery: 2 } });
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof discord>> | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await discord('POST', messages(), { content: `rl ${i}` });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.filter((s) => s === 429)).toHaveLength(2);
    expect(limited?.headers.get('retry-after')).toBe('1');
    expect(limited?.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(limited?.body).toMatchObject({ retry_after: 1, global: false });
  });

  it('works with @discordjs/rest (the REST client of discord.js, as production uses it), which retries a 429 with the same nonce', async () => {
    const before = (await control(sandbox.info, 'GET', '/stats')).body.discord.posts as number;
    // make the very next post the rate-limited one
    await control(sandbox.info, 'PUT', '/faults', { discord: { rateLimitEvery: 1 } });
    const rest = new REST({ api: sandbox.info.discordApiUrl, timeout: 5000, retries: 1 }).setToken(sandbox.info.discordBotToken);
    const posting = rest.post(Routes.channelMessages(sandbox.info.discordChannelId), {
      body: { content: 'via discord.js', nonce: 'djs-1', enforce_nonce: true, allowed_mentions: { parse: [] } },
    }) as Promise<any>;
    // lift the fault while the client sleeps for Retry-After
    await new Promise((r) => setTimeout(r, 300));
    await control(sandbox.info, 'PUT', '/faults', {});
    const message = await posting;
    expect(message.content).toBe('via discord.js');
    const stats = (await control(sandbox.info, 'GET', '/stats')).body.discord;
    expect(stats.posts - before).toBe(2);
    expect(stats.rateLimited).toBeGreaterThanOrEqual(1);
  });
});
