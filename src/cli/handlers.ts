import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { DiscordClient } from '../clients/discord/index.js';
import { makeDiscordPostHandler } from '../runtime/effects/discord-post.js';
import type { Handlers } from '../runtime/executor.js';

/** Effect handlers for the peers that are configured; an action whose peer is missing fails with a clear detail. */
export function handlersFor(config: Config, logger: Logger): Handlers {
  const handlers: Handlers = {};
  if (config.discord.token) {
    const client = new DiscordClient({
      token: config.discord.token,
      apiUrl: config.discord.apiUrl,
      postDeadlineMs: config.discord.postDeadlineMs,
      logger,
    });
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
