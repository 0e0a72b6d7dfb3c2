import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { DiscordApi } from '../clients/discord/api.js';
import { DiscordClient } from '../clients/discord/index.js';
import { makeDiscordPostHandler } from '../runtime/effects/discord-post.js';
import type { EffectsDoor } from '../runtime/effects/door.js';
import type { Handlers } from '../runtime/executor.js';

/** The Discord client behind `door`, or null when no bot token is configured. */
export function discordClient(config: Config, logger: Logger, door: EffectsDoor): DiscordApi | null {
  if (!config.discord.token) return null;
  return door.discord(
    new DiscordClient({
      token: config.discord.token,
      apiUrl: config.discord.apiUrl,
      postDeadlineMs: config.discord.postDeadlineMs,
      logger,
    }),
  );
}

/**
 * Effect handlers for the peers that are configured, their clients behind `door`; an action whose peer is
 * missing fails with a clear detail.
 */
export function handlersFor(config: Config, logger: Logger, door: EffectsDoor): Handlers {
  const handlers: Handlers = {};
  const client = discordClient(config, logger, door);
  if (client) {
    handlers['discord.post'] = makeDiscordPostHandler({
      client,
      channels: {
        default: config.discord.channel,
        delivery: config.discord.deliveryChannel,
        approvals: config.discord.approvalsChannel,
        resource: config.discord.resourceChannel,
        cost: config.discord.costChannel,
      },
    });
  }
  return handlers;
}
