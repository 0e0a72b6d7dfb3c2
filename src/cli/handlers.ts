import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { DiscordApi } from '../clients/discord/api.js';
import { DiscordClient } from '../clients/discord/index.js';
import { makeChannelSearch, makeDiscordPostHandler, type DiscordChannels } from '../runtime/effects/discord-post.js';
import type { EffectsDoor } from '../runtime/effects/door.js';
import type { Handlers } from '../runtime/executor.js';
import { PostedMessages } from '../runtime/posted.js';

/** One Discord client per configuration, so posts and channel searches share its rate-limit queue. */
const clients = new WeakMap<Config, DiscordClient>();

function sharedDiscordClient(config: Config, logger: Logger): DiscordClient | null {
  if (!config.discord.token) return null;
  let client = clients.get(config);
  if (!client) {
    client = new DiscordClient({
      token: config.discord.token,
      apiUrl: config.discord.apiUrl,
      postDeadlineMs: config.discord.postDeadlineMs,
      logger,
    });
    clients.set(config, client);
  }
  return client;
}

/** The Discord client behind `door`, or null when no bot token is configured. */
export function discordClient(config: Config, logger: Logger, door: EffectsDoor): DiscordApi | null {
  const client = sharedDiscordClient(config, logger);
  return client ? door.discord(client) : null;
}

function discordChannels(config: Config): DiscordChannels {
  return {
    default: config.discord.channel,
    delivery: config.discord.deliveryChannel,
    approvals: config.discord.approvalsChannel,
    resource: config.discord.resourceChannel,
    cost: config.discord.costChannel,
  };
}

/**
 * Effect handlers for the peers that are configured, their clients behind `door`; an action whose peer is
 * missing fails with a clear detail.
 */
export function handlersFor(config: Config, logger: Logger, door: EffectsDoor): Handlers {
  const handlers: Handlers = {};
  const client = discordClient(config, logger, door);
  if (client) handlers['discord.post'] = makeDiscordPostHandler({ client, channels: discordChannels(config) });
  return handlers;
}

/** Loads the Discord library ahead of the first post, when a bot token is configured; sends nothing. */
export async function warmDiscord(config: Config, logger: Logger): Promise<void> {
  await sharedDiscordClient(config, logger)?.warm();
}

/** The Discord channels as the record of what was posted (read only, so `plan` and standbys use it too). */
export function postedFor(config: Config, logger: Logger): PostedMessages | undefined {
  const client = sharedDiscordClient(config, logger);
  return client ? new PostedMessages(makeChannelSearch({ client, channels: discordChannels(config) }), logger) : undefined;
}
