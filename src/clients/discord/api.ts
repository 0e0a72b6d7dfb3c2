export interface DiscordEmbed {
  title?: string;
  description: string;
}

export interface DiscordPostInput {
  channelId: string;
  content: string;
  embeds?: DiscordEmbed[];
  /** ≤ 25 chars, deterministic per intended message; sent with enforce_nonce */
  nonce: string;
}

export interface DiscordMessage {
  id: string;
  channelId: string;
  content: string;
  nonce?: string | null;
  createdAt: number;
}

/** The part of a channel the doctor reports: reading it proves the token and that the bot sees the channel. */
export interface DiscordChannel {
  id: string;
  name: string | null;
  type: number;
}

/** Cancels a call early (shutdown); each call also has the client's own deadline. */
export interface DiscordCallOptions {
  signal?: AbortSignal;
}

export interface DiscordApi {
  post(input: DiscordPostInput, opts?: DiscordCallOptions): Promise<DiscordMessage>;
  /** newest first as Discord returns them, up to `limit` (≤ 100); with `before`, only messages older than that id */
  recent(channelId: string, limit: number, opts?: DiscordCallOptions & { before?: string }): Promise<DiscordMessage[]>;
  /** GET /channels/{id}: a read only, so `doctor` checks the token and each channel without posting */
  channel(channelId: string, opts?: DiscordCallOptions): Promise<DiscordChannel>;
}
