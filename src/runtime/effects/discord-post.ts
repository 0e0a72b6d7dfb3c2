import type { DiscordApi, DiscordMessage } from '../../clients/discord/api.js';
import { nonceFor, refLine } from '../../model/discord-text.js';
import type { DiscordPostAction } from '../../model/index.js';
import type { EffectContext, EffectHandler, EffectOutcome } from './types.js';

/** MC_DISCORD_CHANNEL as `default`, overridden per purpose (MC_DELIVERY_CHANNEL, MC_APPROVALS_CHANNEL, …). */
export interface DiscordChannels {
  default?: string;
  delivery?: string;
  approvals?: string;
  resource?: string;
  cost?: string;
}

export interface DiscordPostHandlerOptions {
  client: DiscordApi;
  channels: DiscordChannels;
  /**
   * Beyond this age of a pending intent, Discord's nonce check ("the past few minutes") may no longer
   * catch a message that went out before a crash, so the channel is searched first. Default 60 s: well
   * inside the window, and the search costs one GET only on such retries.
   */
  searchAfterPendingMs?: number;
  /** how many recent messages to search (Discord caps at 100) */
  searchLimit?: number;
  now?: () => number;
}

export function channelFor(channels: DiscordChannels, purpose: DiscordPostAction['purpose']): string | undefined {
  return channels[purpose] || channels.default || undefined;
}

/** A message carries our ref line for this key (content we wrote) or, when Discord returns it, our nonce. */
function isOurs(message: DiscordMessage, key: string): boolean {
  if (message.nonce && message.nonce === nonceFor(key)) return true;
  const ref = refLine(key);
  return message.content.split('\n').some((line) => line === ref);
}

/** What a channel search found: message id per idempotency key, and whether it reached back far enough. */
export interface ChannelSearchResult {
  found: Map<string, string>;
  /** false when the page cap stopped the search before it reached `since` */
  complete: boolean;
  pages: number;
}

export type ChannelSearch = (purpose: DiscordPostAction['purpose'], keys: readonly string[], since: number, signal?: AbortSignal) => Promise<ChannelSearchResult>;

/**
 * Looks for our messages (ref line or nonce) in a purpose's channel, paging back (100 a page, newest first)
 * until a message older than `since` — the earliest moment any of them could have been posted — or the
 * page cap. The channel, not a local file, is then the record of what was announced.
 */
export function makeChannelSearch(opts: { client: DiscordApi; channels: DiscordChannels; maxPages?: number }): ChannelSearch {
  const maxPages = opts.maxPages ?? 10;
  return async (purpose, keys, since, signal) => {
    const found = new Map<string, string>();
    const channelId = channelFor(opts.channels, purpose);
    if (!channelId || keys.length === 0) return { found, complete: true, pages: 0 };
    let before: string | undefined;
    for (let pages = 1; pages <= maxPages; pages++) {
      const page = await opts.client.recent(channelId, 100, { ...(signal ? { signal } : {}), ...(before ? { before } : {}) });
      for (const m of page) for (const k of keys) if (!found.has(k) && isOurs(m, k)) found.set(k, m.id);
      const oldest = page.at(-1);
      if (found.size === keys.length || page.length < 100 || !oldest || oldest.createdAt < since) return { found, complete: true, pages };
      before = oldest.id;
    }
    return { found, complete: false, pages: maxPages };
  };
}

/**
 * The `discord.post` effect. The executor records the intent in the ledger before calling it and merges
 * `action.after` (with the ledger entry confirmed as done, ext = `externalId`) only after it returned
 * `applied`. Discord failures are thrown (typed, `permanent` set where retrying cannot help) so the
 * key's backoff applies; a Discord outage fails only these actions.
 */
export function makeDiscordPostHandler(opts: DiscordPostHandlerOptions): EffectHandler<DiscordPostAction> {
  const searchAfter = opts.searchAfterPendingMs ?? 60_000;
  const searchLimit = Math.min(100, opts.searchLimit ?? 50);
  const now = opts.now ?? Date.now;

  return async (action: DiscordPostAction, ctx: EffectContext): Promise<EffectOutcome> => {
    const channelId = channelFor(opts.channels, action.purpose);
    if (!channelId) {
      return {
        outcome: 'failed',
        detail: `no Discord channel for purpose ${action.purpose}: set MC_DISCORD_CHANNEL or the purpose's own channel`,
      };
    }
    const log = ctx.logger.child({ key: action.key, idempotencyKey: action.idempotencyKey, channelId });
    const signal = ctx.signal ? { signal: ctx.signal } : undefined;

    // an intent left pending by an earlier attempt: that attempt may have posted before failing or crashing
    const pendingFor = ctx.priorIntent?.s === 'pending' ? now() - ctx.priorIntent.at : 0;
    if (pendingFor > searchAfter) {
      const recent = await opts.client.recent(channelId, searchLimit, signal);
      const found = recent.find((m) => isOurs(m, action.idempotencyKey));
      if (found) {
        log.info({ messageId: found.id, pendingForMs: pendingFor }, 'discord message already posted; not posting again');
        return { outcome: 'applied', externalId: found.id, detail: 'found already posted' };
      }
    }

    const message = await opts.client.post(
      {
        channelId,
        content: action.content,
        ...(action.embeds && action.embeds.length > 0 ? { embeds: action.embeds } : {}),
        nonce: nonceFor(action.idempotencyKey),
      },
      signal,
    );
    log.info({ messageId: message.id, purpose: action.purpose }, 'discord message posted');
    return { outcome: 'applied', externalId: message.id };
  };
}
