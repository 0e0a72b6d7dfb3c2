/**
 * The simulator's control API, mounted by the sandbox's control server:
 *   PUT    /sessions/{key}            upsert a session (status, label, lineage, activity, transcript, approval, usage)
 *   DELETE /sessions/{key}            forget a session
 *   POST   /sessions/{key}/messages   append {role, text} now (bumps activity, emits events)
 *   POST   /gateway/restart           drop every connection; new bootId, uptime from 0
 *   GET    /sessions                  what the simulator holds (rows as sessions.list shows them)
 *   GET    /gateway/calls             requests received per method since start or the last reset
 *   POST   /gateway/calls/reset       zero those counters
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { ProtocolServer } from './server.js';
import type { GatewayState } from './state.js';

const Timestamp = z.number().int().nonnegative();

export const SessionPut = z.strictObject({
  status: z.enum(['running', 'done', 'failed', 'killed']),
  label: z.string().min(1).optional(),
  spawnedBy: z.string().min(1).optional(),
  lastActivityAt: Timestamp.optional(),
  lastRunError: z.string().optional(),
  messages: z.array(z.strictObject({ role: z.string().min(1), text: z.string(), timestamp: Timestamp.optional() })).optional(),
  pendingApproval: z.strictObject({ command: z.string().min(1) }).nullable().optional(),
  usage: z
    .strictObject({ costUsd: z.number().nonnegative(), inputTokens: z.number().int().nonnegative(), outputTokens: z.number().int().nonnegative() })
    .optional(),
});

export const MessagePost = z.strictObject({ role: z.string().min(1), text: z.string() });

const MAX_BODY = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.length === 0 ? {} : (JSON.parse(text) as unknown);
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** reply and report the route as handled */
function answer(res: ServerResponse, status: number, body: unknown): true {
  reply(res, status, body);
  return true;
}

function problem(error: z.ZodError): string {
  return error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ');
}

export function createControlRoutes(state: GatewayState, server: ProtocolServer) {
  return async function controlRoutes(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (path === '/gateway/restart' && method === 'POST') {
      server.restart();
      reply(res, 200, { ok: true, ...server.boot });
      return true;
    }
    if (path === '/gateway/calls' && method === 'GET') {
      reply(res, 200, { calls: { ...server.calls } });
      return true;
    }
    if (path === '/gateway/calls/reset' && method === 'POST') {
      server.calls = {};
      reply(res, 200, { ok: true });
      return true;
    }
    if (path === '/sessions' && method === 'GET') {
      reply(res, 200, { sessions: state.list().map((s) => ({ ...state.row(s), messages: s.messages, pendingApproval: s.pendingApproval, usage: s.usage })) });
      return true;
    }
    const match = /^\/sessions\/([^/]+)(\/messages)?$/.exec(path);
    if (!match?.[1]) return false;
    let key: string;
    try {
      key = decodeURIComponent(match[1]);
    } catch {
      reply(res, 400, { error: 'session key is not valid percent-encoding' });
      return true;
    }

    let body: unknown;
    try {
      body = method === 'PUT' || method === 'POST' ? await readBody(req) : undefined;
    } catch (error) {
      reply(res, 400, { error: `invalid JSON body: ${(error as Error).message}` });
      return true;
    }

    if (match[2] && method === 'POST') {
      const parsed = MessagePost.safeParse(body);
      if (!parsed.success) return answer(res, 400, { error: problem(parsed.error) });
      const events = state.addMessage(key, parsed.data.role, parsed.data.text);
      if (!events) return answer(res, 404, { error: `no session ${key}` });
      server.publish(events);
      reply(res, 201, { ok: true });
      return true;
    }
    if (match[2]) return false;

    if (method === 'PUT') {
      const parsed = SessionPut.safeParse(body);
      if (!parsed.success) return answer(res, 400, { error: problem(parsed.error) });
      if (parsed.data.spawnedBy === key) return answer(res, 400, { error: 'a session cannot spawn itself' });
      server.publish(state.upsert(key, parsed.data));
      const session = state.get(key);
      reply(res, 200, session ? state.row(session) : {});
      return true;
    }
    if (method === 'DELETE') {
      const events = state.remove(key);
      if (!events) return answer(res, 404, { error: `no session ${key}` });
      server.publish(events);
      res.writeHead(204).end();
      return true;
    }
    return false;
  };
}
