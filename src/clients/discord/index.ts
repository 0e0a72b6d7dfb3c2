export type { DiscordApi, DiscordCallOptions, DiscordChannel, DiscordEmbed, DiscordMessage, DiscordPostInput } from './api.js';
export { DiscordClient, type DiscordClientOptions } from './client.js';
export * from './errors.js';
export { escapeUntrusted, fitMessage, nonceFor, refLine } from '../../model/discord-text.js';
