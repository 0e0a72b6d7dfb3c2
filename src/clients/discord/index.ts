export type { DiscordApi, DiscordCallOptions, DiscordEmbed, DiscordMessage, DiscordPostInput } from './api.js';
export { DiscordClient, type DiscordClientOptions } from './client.js';
export {
  DiscordApiError,
  DiscordError,
  DiscordRateLimitedError,
  DiscordResponseError,
  DiscordTimeoutError,
  DiscordUnavailableError,
} from './errors.js';
export { escapeUntrusted, fitMessage, nonceFor, refLine } from '../../model/discord-text.js';
