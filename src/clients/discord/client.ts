import type { REST, RateLimitData } from '@discordjs/rest';
import type { Logger } from 'pino';
import { CONTENT_LIMIT, EMBED_DESCRIPTION_LIMIT, NONCE_LIMIT, stripInvisible } from '../../model/discord-text.js';
import type { DiscordApi, DiscordCallOptions, DiscordChannel, DiscordMessage, DiscordPostInput } from './api.js';
import {
  DiscordApiError,
  DiscordError,
  DiscordRateLimitedError,
  DiscordResponseError,
  DiscordTimeoutError,
  DiscordUnavailableError,
} from './errors.js';
import { channelSchema, messageSchema, toMessage } from './schema.js';

export interface DiscordClientOptions {
  /** bot token; sent only in the Authorization header */
  token: string;
  /** base URL without the version (DISCORD_API_URL), default https://discord.com/api */
  apiUrl?: string;
  /** our own deadline around each call, rate-limit waits and library retries included; default 15 000 */
  postDeadlineMs?: number;
  /** a rate-limit wait longer than this is not slept inside a call but thrown as DiscordRateLimitedError; default 5 000 */
  maxRateLimitWaitMs?: number;
  logger?: Logger;
}

const DEFAULT_API = 'https://discord.com/api';

/** The REST library (with its own HTTP stack) is loaded on the first call: a controller with nothing to post never pays its ~25 MB. */
type RestLibrary = typeof import('@discordjs/rest');
let restLibrary: Promise<RestLibrary> | null = null;
const loadRestLibrary = (): Promise<RestLibrary> => (restLibrary ??= import('@discordjs/rest'));
/** 429s without a usable Retry-After are retried by the library at once and without end; cut such a storm short. */
const STORM_HITS = 5;
const STORM_WINDOW_MS = 2_000;
const STORM_BACKOFF_MS = 5_000;

/**
 * Discord over REST only (`@discordjs/rest`, the REST layer of discord.js imported alone so a start does not load the whole library; never a gateway login). Every post disables mention parsing
 * and carries a caller-chosen nonce with enforce_nonce, so the library's own re-sends and our retries
 * after a crash are deduplicated by Discord within its nonce window.
 */
export class DiscordClient implements DiscordApi {
  #rest: Promise<REST> | null = null;
  #lib: RestLibrary | null = null;
  readonly #apiUrl: string;
  readonly #maxWait: number;
  readonly #token: string;
  readonly #deadlineMs: number;
  readonly #logger: Logger | undefined;
  readonly #stormHits = new Map<string, number[]>();

  constructor(opts: DiscordClientOptions) {
    if (!opts.token) throw new DiscordError('Discord bot token is empty', true);
    this.#token = opts.token;
    this.#deadlineMs = opts.postDeadlineMs ?? 15_000;
    this.#logger = opts.logger;
    this.#maxWait = opts.maxRateLimitWaitMs ?? Math.min(5_000, this.#deadlineMs);
    this.#apiUrl = (opts.apiUrl ?? DEFAULT_API).replace(/\/+$/, '');
  }

  /** One REST client per DiscordClient, also when the warm-up and a first post ask at the same time (one rate-limit queue). */
  #client(): Promise<REST> {
    return (this.#rest ??= this.#build().catch((err: unknown) => {
      this.#rest = null;
      throw err;
    }));
  }

  async #build(): Promise<REST> {
    const lib = await loadRestLibrary();
    this.#lib = lib;
    const rest = new lib.REST({
      api: this.#apiUrl,
      version: '10',
      timeout: this.#deadlineMs,
      rejectOnRateLimit: (data) => data.retryAfter > this.#maxWait || this.#isStorm(data),
    });
    rest.on('rateLimited', (d) =>
      this.#logger?.warn({ route: d.route, retryAfterMs: d.retryAfter, global: d.global, scope: d.scope }, 'discord rate limited'),
    );
    return rest;
  }

  /**
   * Loads the REST library and builds its client without calling Discord. `run` does this once it is idle:
   * a long-running controller pays the library's memory at its first post anyway, and the ~100 ms load
   * would otherwise delay that first post (and every post queued behind it).
   */
  async warm(): Promise<void> {
    await this.#client();
  }

  async post(input: DiscordPostInput, opts?: DiscordCallOptions): Promise<DiscordMessage> {
    const route = `POST /channels/${input.channelId}/messages`;
    checkLimits(input, route);
    // the one door every message goes through: whatever a planner forgot, no terminal or bidi control reaches Discord
    const body = {
      content: stripInvisible(input.content),
      ...(input.embeds && input.embeds.length > 0 ? { embeds: input.embeds.map((e) => ({ ...e, description: stripInvisible(e.description) })) } : {}),
      // agent output must never ping anyone, whatever it contains
      allowed_mentions: { parse: [] },
      nonce: input.nonce,
      enforce_nonce: true,
    };
    const raw = await this.#call(route, opts?.signal, (signal, rest) =>
      rest.post(channelMessages(input.channelId), { body, signal }),
    );
    const parsed = messageSchema.safeParse(raw);
    if (!parsed.success) throw new DiscordResponseError(parsed.error.issues[0]?.message ?? 'invalid', route);
    return toMessage(parsed.data);
  }

  async recent(channelId: string, limit: number, opts?: DiscordCallOptions & { before?: string }): Promise<DiscordMessage[]> {
    const route = `GET /channels/${channelId}/messages`;
    const n = Math.min(100, Math.max(1, Math.floor(limit)));
    const query = new URLSearchParams({ limit: String(n), ...(opts?.before ? { before: opts.before } : {}) });
    const raw = await this.#call(route, opts?.signal, (signal, rest) => rest.get(channelMessages(channelId), { query, signal }));
    if (!Array.isArray(raw)) throw new DiscordResponseError('expected an array of messages', route);
    const messages: DiscordMessage[] = [];
    for (const item of raw) {
      const parsed = messageSchema.safeParse(item);
      if (parsed.success) messages.push(toMessage(parsed.data));
      else this.#logger?.warn({ route, issue: parsed.error.issues[0]?.message }, 'skipping malformed discord message');
    }
    return messages;
  }

  async channel(channelId: string, opts?: DiscordCallOptions): Promise<DiscordChannel> {
    const route = `GET /channels/${channelId}`;
    const raw = await this.#call(route, opts?.signal, (signal, rest) => rest.get(`/channels/${encodeURIComponent(channelId)}`, { signal }));
    const parsed = channelSchema.safeParse(raw);
    if (!parsed.success) throw new DiscordResponseError(parsed.error.issues[0]?.message ?? 'invalid', route);
    return { id: parsed.data.id, name: parsed.data.name ?? null, type: parsed.data.type };
  }

  /**
   * Runs one library call under our deadline. The signal aborts queue waits and requests; the race also
   * covers the library's rate-limit sleeps, which do not listen to the signal (the request that follows
   * such a sleep is then aborted at once, so nothing is sent after we gave up).
   */
  async #call<T>(route: string, external: AbortSignal | undefined, run: (signal: AbortSignal, rest: REST) => Promise<T>): Promise<T> {
    const rest = await this.#client();
    const deadline = new AbortController();
    const signal = external ? AbortSignal.any([deadline.signal, external]) : deadline.signal;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const stop = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.abort();
        reject(new DiscordTimeoutError(this.#deadlineMs, route));
      }, this.#deadlineMs);
      onAbort = () => reject(new DiscordError(`Discord ${route} cancelled`));
      external?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      // a token cleared by an earlier 401 would otherwise turn every later call into a confusing local error
      rest.setToken(this.#token);
      return await Promise.race([run(signal, rest), stop]);
    } catch (err) {
      throw this.#mapError(err, route, deadline.signal.aborted);
    } finally {
      clearTimeout(timer);
      if (onAbort) external?.removeEventListener('abort', onAbort);
    }
  }

  #mapError(err: unknown, route: string, timedOut: boolean): Error {
    if (err instanceof DiscordError) return err;
    const lib = this.#lib;
    if (lib && err instanceof lib.RateLimitError) {
      // a storm of header-less 429s reports 0: back off for a while rather than not at all
      return new DiscordRateLimitedError(err.retryAfter > 0 ? err.retryAfter : STORM_BACKOFF_MS, err.global, route);
    }
    if (lib && err instanceof lib.DiscordAPIError) {
      return new DiscordApiError(err.status, err.code, firstLine(err.message), route);
    }
    if (lib && err instanceof lib.HTTPError) return new DiscordUnavailableError(err.status, err.message, route);
    if (timedOut) return new DiscordTimeoutError(this.#deadlineMs, route);
    const message = err instanceof Error ? err.message : String(err);
    return new DiscordUnavailableError(null, message.split(this.#token).join('<redacted>'), route);
  }

  /** True once a route has hit STORM_HITS rate limits within STORM_WINDOW_MS. */
  #isStorm(data: RateLimitData): boolean {
    const now = Date.now();
    const hits = (this.#stormHits.get(data.route) ?? []).filter((t) => now - t < STORM_WINDOW_MS);
    hits.push(now);
    this.#stormHits.set(data.route, hits);
    if (hits.length < STORM_HITS) return false;
    this.#stormHits.delete(data.route);
    return true;
  }
}

function checkLimits(input: DiscordPostInput, route: string): void {
  const fail = (what: string) => {
    throw new DiscordError(`Discord ${route} not sent: ${what}`, true);
  };
  if (input.nonce.length === 0 || input.nonce.length > NONCE_LIMIT) fail(`nonce must be 1..${NONCE_LIMIT} chars`);
  if (input.content.length > CONTENT_LIMIT) fail(`content is ${input.content.length} > ${CONTENT_LIMIT} chars`);
  if ((input.embeds?.length ?? 0) > 10) fail('more than 10 embeds');
  for (const e of input.embeds ?? []) {
    if (e.description.length > EMBED_DESCRIPTION_LIMIT) fail(`embed description > ${EMBED_DESCRIPTION_LIMIT} chars`);
  }
}

/** `Routes.channelMessages` of discord-api-types, without loading its ~15 MB of route and type tables at start. */
function channelMessages(channelId: string): `/${string}` {
  return `/channels/${encodeURIComponent(channelId)}/messages`;
}

function firstLine(text: string): string {
  return text.split('\n').slice(0, 3).join(' ').slice(0, 300);
}
