import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { authorized } from '../auth.js';
import type { FaultState } from '../faults.js';
import { BodyTooLargeError, readBody, sendJson } from '../http.js';
import { snowflake, type DiscordMessageRow, type DiscordStore } from './store.js';

/**
 * A fake of the Discord REST routes the controller uses (API v10): create message (with
 * nonce + enforce_nonce dedupe and Discord's length limits), list messages, get channel.
 * Deviation: `GET …/messages` lists OLDEST first (real Discord: newest first).
 */

export interface DiscordCounters {
  requests: number;
  posts: number;
  created: number;
  deduplicated: number;
  rateLimited: number;
  rejected: number;
}

export const newDiscordCounters = (): DiscordCounters => ({ requests: 0, posts: 0, created: 0, deduplicated: 0, rateLimited: 0, rejected: 0 });

export interface DiscordOptions {
  store: DiscordStore;
  token: string;
  faults: FaultState;
  stats: DiscordCounters;
  log: (line: string) => void;
}

const LIMITS = { content: 2000, nonce: 25, embeds: 10, title: 256, description: 4096, total: 6000 };

const Embed = z.looseObject({
  title: z.string().optional(),
  description: z.string().optional(),
  url: z.string().optional(),
  color: z.number().int().optional(),
  fields: z.array(z.looseObject({ name: z.string(), value: z.string(), inline: z.boolean().optional() })).optional(),
  footer: z.looseObject({ text: z.string() }).optional(),
  author: z.looseObject({ name: z.string() }).optional(),
});

const CreateMessage = z.looseObject({
  content: z.string().optional(),
  embeds: z.array(Embed).optional(),
  allowed_mentions: z.looseObject({}).optional(),
  nonce: z.union([z.string(), z.number().int()]).optional(),
  enforce_nonce: z.boolean().optional(),
  flags: z.number().int().optional(),
});
type CreateMessage = z.infer<typeof CreateMessage>;

type FormErrors = Record<string, unknown>;

function addError(errors: FormErrors, path: Array<string | number>, code: string, message: string): void {
  let node = errors;
  for (const key of path) node = (node[String(key)] ??= {}) as FormErrors;
  ((node._errors ??= []) as unknown[]).push({ code, message });
}

function lengthErrors(body: CreateMessage): FormErrors {
  const errors: FormErrors = {};
  const tooLong = (max: number): string => `Must be ${max} or fewer in length.`;
  if ((body.content ?? '').length > LIMITS.content) addError(errors, ['content'], 'BASE_TYPE_MAX_LENGTH', tooLong(LIMITS.content));
  if (typeof body.nonce === 'string' && body.nonce.length > LIMITS.nonce) addError(errors, ['nonce'], 'BASE_TYPE_MAX_LENGTH', tooLong(LIMITS.nonce));
  const embeds = body.embeds ?? [];
  if (embeds.length > LIMITS.embeds) addError(errors, ['embeds'], 'BASE_TYPE_MAX_LENGTH', tooLong(LIMITS.embeds));
  let total = 0;
  embeds.forEach((e, i) => {
    if ((e.title ?? '').length > LIMITS.title) addError(errors, ['embeds', i, 'title'], 'BASE_TYPE_MAX_LENGTH', tooLong(LIMITS.title));
    if ((e.description ?? '').length > LIMITS.description) {
      addError(errors, ['embeds', i, 'description'], 'BASE_TYPE_MAX_LENGTH', tooLong(LIMITS.description));
    }
    total += (e.title ?? '').length + (e.description ?? '').length + (e.footer?.text.length ?? 0) + (e.author?.name.length ?? 0);
    for (const f of e.fields ?? []) total += f.name.length + f.value.length;
  });
  if (total > LIMITS.total) addError(errors, ['embeds'], 'MAX_EMBED_SIZE_EXCEEDED', `Embed size exceeds maximum size of ${LIMITS.total}`);
  return errors;
}

function zodFormErrors(error: z.ZodError): FormErrors {
  const errors: FormErrors = {};
  for (const issue of error.issues) {
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    addError(errors, path, 'BASE_TYPE_BAD_TYPE', issue.message);
  }
  return errors;
}

const invalidForm = (errors: FormErrors): { status: number; body: unknown } => ({
  status: 400,
  body: { code: 50035, message: 'Invalid Form Body', errors },
});

export function createDiscordServer(opts: DiscordOptions): Server {
  let postsSeen = 0;
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void =>
    sendJson(res, status, body, headers);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    opts.stats.requests++;
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const method = (req.method ?? 'GET').toUpperCase();
    const m = /^\/api\/v10\/channels\/([^/]+)(\/messages)?\/?$/.exec(url.pathname);
    if (!m) {
      send(res, 404, { message: '404: Not Found', code: 0 });
      return;
    }
    if (!authorized(req.headers.authorization, 'Bot', opts.token)) {
      send(res, 401, { message: '401: Unauthorized', code: 0 });
      return;
    }
    const channel = opts.store.channels.get(m[1] as string);
    const isMessages = m[2] !== undefined;
    if (!isMessages && method === 'GET') {
      if (!channel) send(res, 404, { message: 'Unknown Channel', code: 10003 });
      else send(res, 200, { id: channel.id, type: channel.type, guild_id: channel.guild_id, name: channel.name, position: channel.position });
      return;
    }
    if (!isMessages || (method !== 'GET' && method !== 'POST')) {
      send(res, 405, { message: '405: Method Not Allowed', code: 0 });
      return;
    }
    if (!channel) {
      send(res, 404, { message: 'Unknown Channel', code: 10003 });
      return;
    }
    if (method === 'GET') {
      const raw = Number(url.searchParams.get('limit') ?? '50');
      const limit = Number.isInteger(raw) ? Math.min(Math.max(raw, 1), 100) : 50;
      const before = url.searchParams.get('before');
      if (before !== null && !/^\d{1,20}$/.test(before)) {
        send(res, 400, { message: 'Invalid Form Body', code: 50035, errors: { before: { _errors: [{ code: 'NUMBER_TYPE_COERCE', message: `Value "${before}" is not snowflake.` }] } } });
        return;
      }
      send(res, 200, opts.store.page(channel, limit, before ?? undefined));
      return;
    }

    opts.stats.posts++;
    postsSeen++;
    const every = opts.faults.discord.rateLimitEvery;
    if (every > 0 && postsSeen % every === 0) {
      opts.stats.rateLimited++;
      const after = opts.faults.discord.retryAfterSeconds;
      send(
        res,
        429,
        { message: 'You are being rate limited.', retry_after: after, global: false },
        {
          'retry-after': String(Math.ceil(after)),
          'x-ratelimit-limit': '5',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': ((Date.now() + after * 1000) / 1000).toFixed(3),
          'x-ratelimit-reset-after': after.toFixed(3),
          'x-ratelimit-bucket': 'sandbox-channel-messages',
          'x-ratelimit-scope': 'user',
        },
      );
      return;
    }

    const result = await createMessage(req, channel.id);
    if (result.status !== 200) opts.stats.rejected++;
    send(res, result.status, result.body);
  }

  async function createMessage(req: IncomingMessage, channelId: string): Promise<{ status: number; body: unknown }> {
    let raw: unknown;
    try {
      raw = JSON.parse(await readBody(req));
    } catch (err) {
      if (err instanceof BodyTooLargeError) return { status: 413, body: { message: 'Request entity too large', code: 40005 } };
      return { status: 400, body: { message: 'The request body contains invalid JSON.', code: 50109 } };
    }
    const parsed = CreateMessage.safeParse(raw);
    if (!parsed.success) return invalidForm(zodFormErrors(parsed.error));
    const body = parsed.data;
    const errors = lengthErrors(body);
    if (Object.keys(errors).length > 0) return invalidForm(errors);
    if (!(body.content ?? '').trim() && (body.embeds ?? []).length === 0) {
      return { status: 400, body: { message: 'Cannot send an empty message', code: 50006 } };
    }
    const channel = opts.store.channels.get(channelId);
    if (!channel) return { status: 404, body: { message: 'Unknown Channel', code: 10003 } };
    if (body.nonce !== undefined && body.enforce_nonce === true) {
      const first = opts.store.recentByNonce(opts.store.bot.id, body.nonce);
      if (first) {
        opts.stats.deduplicated++;
        return { status: 200, body: first };
      }
    }
    const now = Date.now();
    const message: DiscordMessageRow = {
      id: snowflake(now),
      type: 0,
      channel_id: channel.id,
      content: body.content ?? '',
      embeds: body.embeds ?? [],
      nonce: body.nonce ?? null,
      timestamp: new Date(now).toISOString().replace('Z', '000+00:00'),
      edited_timestamp: null,
      tts: false,
      mention_everyone: false,
      mentions: [],
      mention_roles: [],
      attachments: [],
      components: [],
      pinned: false,
      flags: body.flags ?? 0,
      author: opts.store.bot,
    };
    channel.messages.push(message);
    if (body.enforce_nonce === true) opts.store.rememberNonce(message, now);
    opts.stats.created++;
    return { status: 200, body: message };
  }

  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      opts.log(`discord: unexpected error on ${req.method} ${req.url}: ${err instanceof Error ? err.message : String(err)}`);
      sendJson(res, 500, { message: '500: Internal Server Error', code: 0 });
    });
  });
}
