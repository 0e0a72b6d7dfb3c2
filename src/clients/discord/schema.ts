import { z } from 'zod';
import type { DiscordMessage } from './api.js';

/** The part of Discord's message object we read; everything else may change freely. */
export const messageSchema = z.object({
  id: z.string().min(1),
  channel_id: z.string().min(1),
  content: z.string().default(''),
  nonce: z.union([z.string(), z.number()]).nullish(),
  timestamp: z.string(),
});

export function toMessage(raw: z.infer<typeof messageSchema>): DiscordMessage {
  const createdAt = Date.parse(raw.timestamp);
  return {
    id: raw.id,
    channelId: raw.channel_id,
    content: raw.content,
    nonce: raw.nonce === undefined || raw.nonce === null ? null : String(raw.nonce),
    createdAt: Number.isNaN(createdAt) ? 0 : createdAt,
  };
}

/** The part of Discord's channel object `doctor` reports. */
export const channelSchema = z.object({ id: z.string().min(1), name: z.string().nullish(), type: z.number() });
