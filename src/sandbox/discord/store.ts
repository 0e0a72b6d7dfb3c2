/** Channels, messages and the nonce memory of the fake Discord. */

export const DISCORD_EPOCH_MS = 1_420_070_400_000n;
export const NONCE_WINDOW_MS = 5 * 60_000;

let increment = 0n;

/** Snowflake-like ids: milliseconds since the Discord epoch << 22 plus an increment. */
export function snowflake(at = Date.now()): string {
  increment = (increment + 1n) & 0xfffn;
  return ((BigInt(at) - DISCORD_EPOCH_MS) << 22n | increment).toString();
}

export interface DiscordUser {
  id: string;
  username: string;
  discriminator: string;
  global_name: string | null;
  avatar: string | null;
  bot: true;
}

export interface DiscordMessageRow {
  id: string;
  type: 0;
  channel_id: string;
  content: string;
  embeds: unknown[];
  nonce: string | number | null;
  timestamp: string;
  edited_timestamp: null;
  tts: false;
  mention_everyone: false;
  mentions: [];
  mention_roles: [];
  attachments: [];
  components: [];
  pinned: false;
  flags: number;
  author: DiscordUser;
}

export interface ChannelRow {
  id: string;
  type: 0;
  guild_id: string;
  name: string;
  position: number;
  messages: DiscordMessageRow[];
}

export class DiscordStore {
  readonly guildId = snowflake();
  readonly bot: DiscordUser = {
    id: snowflake(),
    username: 'mc-sandbox-bot',
    discriminator: '0000',
    global_name: null,
    avatar: null,
    bot: true,
  };
  readonly channels = new Map<string, ChannelRow>();
  /** `${authorId}:${nonce}` → first message and when it was sent */
  private readonly nonces = new Map<string, { message: DiscordMessageRow; at: number }>();
  /**
   * How long a nonce deduplicates (Discord: "the past few minutes"). Settable through the control API so a
   * test can show what happens beyond the window without waiting five minutes.
   */
  nonceWindowMs = NONCE_WINDOW_MS;

  addChannel(name: string): ChannelRow {
    const row: ChannelRow = { id: snowflake(), type: 0, guild_id: this.guildId, name, position: this.channels.size, messages: [] };
    this.channels.set(row.id, row);
    return row;
  }

  /** The first message with this nonce from this author within the window, if any. */
  recentByNonce(authorId: string, nonce: string | number, now = Date.now()): DiscordMessageRow | null {
    const hit = this.nonces.get(`${authorId}:${nonce}`);
    return hit && now - hit.at < this.nonceWindowMs ? hit.message : null;
  }

  rememberNonce(message: DiscordMessageRow, now = Date.now()): void {
    if (message.nonce === null) return;
    for (const [key, hit] of this.nonces) if (now - hit.at >= this.nonceWindowMs) this.nonces.delete(key);
    this.nonces.set(`${message.author.id}:${message.nonce}`, { message, at: now });
  }

  /**
   * A page of a channel's history as Discord's GET messages answers it: newest first, at most `limit`, only
   * messages older than `before` (a message id) when given.
   */
  page(channel: ChannelRow, limit: number, before?: string): DiscordMessageRow[] {
    const older = before === undefined ? channel.messages : channel.messages.filter((m) => BigInt(m.id) < BigInt(before));
    return older.slice(-limit).reverse();
  }

  allMessages(): DiscordMessageRow[] {
    return [...this.channels.values()].flatMap((c) => c.messages).sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
  }
}
