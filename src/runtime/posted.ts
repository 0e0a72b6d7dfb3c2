import type { Logger } from 'pino';
import type { DiscordPostAction, PostedQuery } from '../model/index.js';
import type { ChannelSearch } from './effects/discord-post.js';

/** Keys remembered per process; beyond this the oldest are forgotten (and searched again if still asked). */
const REMEMBERED = 5_000;

function remember<T>(map: Map<string, T>, key: string, value: T): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value as string);
}

/**
 * Which messages are already in a channel, for global planners whose ledger is only a local cache (task-less
 * approval notices). A message found once is remembered for the process; an absence is searched again on
 * the next ask, unless the query says it is final — so a message another replica posts meanwhile is seen.
 */
export class PostedMessages {
  private readonly found = new Map<string, string>();
  private readonly absent = new Map<string, true>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly search: ChannelSearch,
    private readonly logger: Logger,
  ) {}

  async lookup(purpose: DiscordPostAction['purpose'], queries: readonly PostedQuery[]): Promise<Map<string, string>> {
    const open = queries.filter((q) => !this.found.has(q.key) && !(q.final && this.absent.has(q.key)));
    if (open.length > 0) {
      const since = Math.min(...open.map((q) => q.since));
      const result = await this.search(purpose, open.map((q) => q.key), since);
      for (const q of open) {
        const id = result.found.get(q.key);
        if (id) remember(this.found, q.key, id);
        else if (q.final) remember(this.absent, q.key, true);
      }
      const missing = open.filter((q) => !result.found.has(q.key)).map((q) => q.key);
      if (!result.complete && missing.length > 0 && !this.warned.has(missing.join())) {
        this.warned.add(missing.join());
        this.logger.warn(
          { purpose, pages: result.pages, keys: missing },
          `searched ${result.pages} pages of the ${purpose} channel without reaching back to when these messages could have been posted; treating them as not posted`,
        );
      }
    }
    const out = new Map<string, string>();
    for (const q of queries) {
      const id = this.found.get(q.key);
      if (id) out.set(q.key, id);
    }
    return out;
  }
}
