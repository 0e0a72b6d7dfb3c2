import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiscordClient } from '../../clients/discord/client.js';
import { DiscordApiError } from '../../clients/discord/errors.js';
import { nonceFor, refLine } from '../../model/discord-text.js';
import type { DiscordPostAction } from '../../model/index.js';
import { startSandbox, type SandboxHandle } from '../../sandbox/index.js';
import { control } from '../../sandbox/testing/client.js';
import { PostedMessages } from '../posted.js';
import { channelFor, makeChannelSearch, makeDiscordPostHandler } from './discord-post.js';
import type { EffectContext } from './types.js';
import { EffectRefusedError, EffectsDoor } from './door.js';

let sandbox: SandboxHandle;
beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
});
afterAll(() => sandbox.close());
beforeEach(async () => {
  await control(sandbox.info, 'PUT', '/faults', {});
});

const logger = pino({ level: 'silent' });
const ctx = (over: Partial<EffectContext> = {}): EffectContext => ({ logger, ...over });
const discord = () => new DiscordClient({ token: sandbox.info.discordBotToken, apiUrl: sandbox.info.discordApiUrl, postDeadlineMs: 5_000 });
const messages = async () =>
  (await control(sandbox.info, 'GET', `/discord/messages?channel=${sandbox.info.discordChannelId}`)).body.messages as {
    id: string;
    content: string;
    embeds: { description: string }[];
  }[];

function action(idempotencyKey: string, over: Partial<DiscordPostAction> = {}): DiscordPostAction {
  return {
    type: 'discord.post',
    key: 'task/b/t',
    reconciler: 'delivery',
    reason: 'test',
    idempotencyKey,
    purpose: 'delivery',
    content: `[Mission Control] Entrega\nResultado: ok ${idempotencyKey}\n${refLine(idempotencyKey)}`,
    task: { boardId: 'b', taskId: 't' },
    ...over,
  };
}

describe('discord.post handler', () => {
  it('posts to the purpose channel, falling back to the default channel, with the key-derived nonce', async () => {
    const handler = makeDiscordPostHandler({ client: discord(), channels: { default: sandbox.info.discordChannelId } });
    const out = await handler(action('a1b2c3d4e5f6a7b8c9d0', { embeds: [{ description: 'the rest' }] }), ctx());
    expect(out.outcome).toBe('applied');
    const row = (await messages()).find((m) => m.id === out.externalId);
    expect(row?.content).toContain('Resultado: ok a1b2c3d4e5f6a7b8c9d0');
    expect(row?.embeds[0]?.description).toBe('the rest');
    expect((row as unknown as { nonce: string }).nonce).toBe(nonceFor('a1b2c3d4e5f6a7b8c9d0'));
  });

  it('uses the per-purpose channel over the default', async () => {
    expect(channelFor({ default: 'D', approvals: 'A' }, 'approvals')).toBe('A');
    expect(channelFor({ default: 'D', approvals: 'A' }, 'delivery')).toBe('D');
    expect(channelFor({ delivery: '' }, 'delivery')).toBeUndefined();
    // a purpose channel that does not exist fails that action with Discord's code, nothing else
    const handler = makeDiscordPostHandler({
      client: discord(),
      channels: { default: sandbox.info.discordChannelId, approvals: '999' },
    });
    const err = await handler(action('0000000000000000000a', { purpose: 'approvals' }), ctx()).catch((e) => e);
    expect(err).toBeInstanceOf(DiscordApiError);
    expect(err).toMatchObject({ code: 10003 });
  });

  it('fails clearly when no channel is configured for the purpose', async () => {
    const handler = makeDiscordPostHandler({ client: discord(), channels: { delivery: sandbox.info.discordChannelId } });
    const out = await handler(action('0000000000000000000b', { purpose: 'cost' }), ctx());
    expect(out.outcome).toBe('failed');
    expect(out.detail).toMatch(/no Discord channel for purpose cost/);
  });

  it('never posts through a closed effects door (dry-run, plan, standby)', async () => {
    const before = (await messages()).length;
    for (const door of [EffectsDoor.closed('dry-run'), EffectsDoor.closed('plan'), EffectsDoor.whileLeading(() => false)]) {
      const handler = makeDiscordPostHandler({ client: door.discord(discord()), channels: { default: sandbox.info.discordChannelId } });
      await expect(handler(action('0000000000000000000c'), ctx())).rejects.toBeInstanceOf(EffectRefusedError);
    }
    expect(await messages()).toHaveLength(before);
  });

  it('a retry soon after a crash reuses the nonce: Discord returns the first message', async () => {
    const handler = makeDiscordPostHandler({ client: discord(), channels: { default: sandbox.info.discordChannelId } });
    const first = await handler(action('0000000000000000000d'), ctx());
    const before = (await messages()).length;
    const retry = await handler(action('0000000000000000000d'), ctx({ priorIntent: { s: 'pending', at: Date.now() - 5_000 } }));
    expect(retry.externalId).toBe(first.externalId);
    expect(await messages()).toHaveLength(before);
  });

  it('after the nonce window, finds the earlier message by its ref line instead of posting again', async () => {
    const key = '0000000000000000000e';
    // the earlier attempt's message, posted without our nonce (GET on real Discord does not return nonces)
    const earlier = await discord().post({ channelId: sandbox.info.discordChannelId, content: action(key).content, nonce: 'other' });
    const before = (await messages()).length;
    const handler = makeDiscordPostHandler({ client: discord(), channels: { default: sandbox.info.discordChannelId } });
    const out = await handler(action(key), ctx({ priorIntent: { s: 'pending', at: Date.now() - 10 * 60_000 } }));
    expect(out).toMatchObject({ outcome: 'applied', externalId: earlier.id });
    expect(await messages()).toHaveLength(before);
  });

  it('after the nonce window, posts when no earlier message is found', async () => {
    const before = (await messages()).length;
    const handler = makeDiscordPostHandler({ client: discord(), channels: { default: sandbox.info.discordChannelId } });
    const out = await handler(action('0000000000000000000f'), ctx({ priorIntent: { s: 'pending', at: Date.now() - 10 * 60_000 } }));
    expect(out.outcome).toBe('applied');
    expect(await messages()).toHaveLength(before + 1);
  });
});

describe('channel search (the channel as the record of what was posted)', () => {
  const key = (n: number) => `search${String(n).padStart(14, '0')}`;
  const post = (content: string) =>
    fetch(`${sandbox.info.discordApiUrl}/v10/channels/${sandbox.info.discordChannelId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bot ${sandbox.info.discordBotToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content }),
    });

  it('pages back past 100 newer messages to find a ref, and stops at the page cap or at `since`', async () => {
    await post(`old notice\n${refLine(key(1))}`);
    for (let i = 0; i < 130; i++) await post(`chatter ${i}`);
    const channels = { default: sandbox.info.discordChannelId };
    const deep = await makeChannelSearch({ client: discord(), channels })('approvals', [key(1), key(2)], 0);
    expect(deep.found.has(key(1))).toBe(true);
    expect(deep.found.has(key(2))).toBe(false);
    expect(deep).toMatchObject({ complete: true });
    expect(deep.pages).toBeGreaterThanOrEqual(2);

    const capped = await makeChannelSearch({ client: discord(), channels, maxPages: 1 })('approvals', [key(1)], 0);
    expect(capped).toMatchObject({ complete: false, pages: 1 });
    expect(capped.found.size).toBe(0);
    // nothing can be older than `since`: one page is enough to know
    const recentOnly = await makeChannelSearch({ client: discord(), channels })('approvals', [key(1)], Date.now() + 60_000);
    expect(recentOnly).toMatchObject({ complete: true, pages: 1 });
  });

  it('PostedMessages remembers what it found, searches an absence again unless final', async () => {
    let searches = 0;
    const search = makeChannelSearch({ client: discord(), channels: { default: sandbox.info.discordChannelId } });
    const counted: typeof search = (...args) => {
      searches++;
      return search(...args);
    };
    const posted = new PostedMessages(counted, logger);
    await post(`notice\n${refLine(key(3))}`);
    const since = Date.now() - 60_000;
    expect([...(await posted.lookup('approvals', [{ key: key(3), since }])).keys()]).toEqual([key(3)]);
    await posted.lookup('approvals', [{ key: key(3), since }]);
    expect(searches).toBe(1);
    await posted.lookup('approvals', [{ key: key(4), since }]);
    await posted.lookup('approvals', [{ key: key(4), since }]);
    expect(searches).toBe(3);
    await posted.lookup('approvals', [{ key: key(5), since, final: true }]);
    await posted.lookup('approvals', [{ key: key(5), since, final: true }]);
    expect(searches).toBe(4);
  });
});
