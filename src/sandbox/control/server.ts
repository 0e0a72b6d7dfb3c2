import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { z } from 'zod';
import type { DiscordCounters } from '../discord/server.js';
import type { DiscordStore } from '../discord/store.js';
import { FaultsSchema, type FaultState } from '../faults.js';
import { readBody, sendJson } from '../http.js';
import type { Store } from '../mission-control/store.js';
import { parseIsoMicros } from '../mission-control/time.js';
import type { RequestStats } from '../stats.js';

/**
 * The sandbox control API (no auth; binds 127.0.0.1 only): faults, request stats, Discord
 * messages, a test clock helper, and an extension point for other simulators' routes.
 */

/** Handles the request and resolves true, or resolves false to let the next route try. */
export type ControlRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export interface ControlOptions {
  faults: FaultState;
  mcStats: RequestStats;
  mcStore: Store;
  discordStats: DiscordCounters;
  discordStore: DiscordStore;
  routes: ControlRoute[];
  log: (line: string) => void;
}

const DiscordSettings = z.strictObject({
  nonceWindowMs: z.number().int().min(0),
});

const Timestamps = z.strictObject({
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  in_progress_at: z.string().nullable().optional(),
});

const NewAgent = z.object({ board_id: z.string(), name: z.string().optional(), is_board_lead: z.boolean().optional() });

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
}

export function createControlServer(opts: ControlOptions): Server {
  const builtIn: ControlRoute = async (req, res, url) => {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/$/, '');
    if (path === '/health' && method === 'GET') {
      sendJson(res, 200, { ok: true });
    } else if (path === '/faults' && method === 'GET') {
      sendJson(res, 200, opts.faults.view());
    } else if (path === '/faults' && method === 'PUT') {
      const parsed = FaultsSchema.safeParse(await jsonBody(req));
      if (!parsed.success) sendJson(res, 400, { error: 'invalid faults', issues: parsed.error.issues });
      else {
        opts.faults.replace(parsed.data);
        sendJson(res, 200, opts.faults.view());
      }
    } else if (path === '/stats' && method === 'GET') {
      sendJson(res, 200, { mc: opts.mcStats.view(), discord: { ...opts.discordStats } });
    } else if (path === '/stats/reset' && method === 'POST') {
      opts.mcStats.reset();
      for (const key of Object.keys(opts.discordStats) as Array<keyof DiscordCounters>) opts.discordStats[key] = 0;
      sendJson(res, 200, { ok: true });
    } else if (path === '/discord/messages' && method === 'GET') {
      const channel = url.searchParams.get('channel');
      const messages = channel === null ? opts.discordStore.allMessages() : (opts.discordStore.channels.get(channel)?.messages ?? []);
      sendJson(res, 200, { messages });
    } else if (path === '/discord/settings' && method === 'GET') {
      sendJson(res, 200, { nonceWindowMs: opts.discordStore.nonceWindowMs });
    } else if (path === '/discord/settings' && method === 'PUT') {
      const parsed = DiscordSettings.safeParse(await jsonBody(req));
      if (!parsed.success) sendJson(res, 400, { error: 'invalid discord settings', issues: parsed.error.issues });
      else {
        opts.discordStore.nonceWindowMs = parsed.data.nonceWindowMs;
        sendJson(res, 200, { nonceWindowMs: opts.discordStore.nonceWindowMs });
      }
    } else if (path === '/mc/agents' && method === 'POST') {
      await addAgent(req, res);
    } else {
      const m = /^\/mc\/tasks\/([^/]+)\/timestamps$/.exec(path);
      if (!m || method !== 'PATCH') return false;
      await backdate(req, res, m[1] as string);
    }
    return true;
  };

  /**
   * Upstream provisions agents through a live OpenClaw gateway; tests get one here instead, e.g. a
   * board lead (`{board_id, is_board_lead: true}`), bound to the board's gateway.
   */
  async function addAgent(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = NewAgent.safeParse(await jsonBody(req));
    const board = parsed.success ? opts.mcStore.boards.get(parsed.data.board_id) : undefined;
    if (!parsed.success || !board?.gateway_id) {
      sendJson(res, 400, { error: 'body must be {board_id (a board with a gateway), name?, is_board_lead?}' });
      return;
    }
    const agent = opts.mcStore.addAgent({
      name: parsed.data.name ?? 'Sandbox agent',
      board_id: board.id,
      gateway_id: board.gateway_id,
      is_board_lead: parsed.data.is_board_lead ?? false,
    });
    sendJson(res, 200, opts.mcStore.agentRead(agent));
  }

  /** Lets tests age a task (e.g. an in_progress_at an hour old) without waiting. */
  async function backdate(req: IncomingMessage, res: ServerResponse, taskId: string): Promise<void> {
    const task = opts.mcStore.tasks.get(taskId);
    if (!task) {
      sendJson(res, 404, { error: 'unknown task' });
      return;
    }
    const parsed = Timestamps.safeParse(await jsonBody(req));
    if (!parsed.success) {
      sendJson(res, 400, { error: 'invalid timestamps', issues: parsed.error.issues });
      return;
    }
    const micros = (v: string): number | null => parseIsoMicros(v);
    const entries = Object.entries(parsed.data).map(([k, v]) => [k, v === null ? null : micros(v as string)] as const);
    const bad = entries.filter(([k, v]) => v === null && parsed.data[k as keyof typeof parsed.data] !== null);
    if (bad.length > 0) {
      sendJson(res, 400, { error: `not ISO-8601: ${bad.map(([k]) => k).join(', ')}` });
      return;
    }
    for (const [key, value] of entries) {
      if (key === 'in_progress_at') task.in_progress_at = value;
      else if (value !== null) task[key as 'created_at' | 'updated_at'] = value;
    }
    sendJson(res, 200, opts.mcStore.taskRead(task));
  }

  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    void (async () => {
      for (const route of [builtIn, ...opts.routes]) {
        if (await route(req, res, url)) return;
      }
      sendJson(res, 404, { error: 'not found' });
    })().catch((err: unknown) => {
      opts.log(`control: error on ${req.method} ${req.url}: ${err instanceof Error ? err.message : String(err)}`);
      sendJson(res, err instanceof SyntaxError ? 400 : 500, { error: err instanceof SyntaxError ? 'invalid JSON' : 'internal error' });
    });
  });
}
