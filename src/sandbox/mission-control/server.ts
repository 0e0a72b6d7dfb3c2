import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { authorized } from '../auth.js';
import type { FaultState, McFaultKind } from '../faults.js';
import { BodyTooLargeError, clientGone, readBody, sendJson, sleep } from '../http.js';
import type { RequestStats } from '../stats.js';
import { AgentAuthLimiter } from './agent-auth-limiter.js';
import { approvalRoutes } from './approvals.js';
import { boardRoutes } from './boards.js';
import { customFieldRoutes } from './custom-fields.js';
import { HttpError, parseJsonBody } from './errors.js';
import { gatewayRoutes } from './gateways.js';
import { identityRoutes } from './identity.js';
import { checkPathIds, match, type Route, type RouteContext } from './router.js';
import { streamRoutes, type StreamTiming } from './sse.js';
import type { Store } from './store.js';
import { commentRoutes } from './comments.js';
import { taskRoutes } from './tasks.js';

/** The fake Mission Control HTTP server: local bearer auth, `/api/v1` routes, upstream error shapes. */

export interface MissionControlOptions {
  store: Store;
  token: string;
  faults: FaultState;
  stats: RequestStats;
  log: (line: string) => void;
  streams?: Partial<StreamTiming>;
}

const API_PREFIX = '/api/v1';
const HEALTH_PATHS = new Set(['/health', '/healthz', '/readyz']);

const FAULT_ANSWERS: Record<Exclude<McFaultKind, 'stall' | 'reset-after-commit'>, { status: number; detail: string; headers?: Record<string, string> }> = {
  '500': { status: 500, detail: 'Internal Server Error' },
  '502': { status: 502, detail: 'Bad Gateway' },
  '503': { status: 503, detail: 'Service Unavailable' },
  '429': { status: 429, detail: 'Too Many Requests', headers: { 'retry-after': '1' } },
};

export function createMissionControlServer(opts: MissionControlOptions): Server {
  const timing: StreamTiming = {
    mode: opts.streams?.mode ?? 'upstream',
    pollMs: opts.streams?.pollMs ?? 2000,
    pingMs: opts.streams?.pingMs ?? 15_000,
  };
  // Order matters: `/tasks/stream` must win over `/tasks/{task_id}`.
  const routes: Route[] = [...streamRoutes(timing), ...boardRoutes(), ...gatewayRoutes(), ...taskRoutes(), ...commentRoutes(), ...approvalRoutes(), ...customFieldRoutes(), ...identityRoutes()];

  const limiter = new AgentAuthLimiter();
  return createServer((req, res) => {
    handle(req, res, routes, limiter, opts).catch((err: unknown) => {
      opts.log(`mission-control: unexpected error on ${req.method} ${req.url}: ${err instanceof Error ? err.message : String(err)}`);
      sendJson(res, 500, { detail: 'Internal Server Error', request_id: 'unknown' });
    });
  });
}

/** FastAPI parses JSON only under a JSON content type (or none); any other body is validated as its raw text. */
function requestBody(contentType: string | undefined, text: string): { value: unknown; floatPaths: Set<string> } {
  if (contentType !== undefined && !/json/i.test(contentType) && text.trim() !== '') return { value: text, floatPaths: new Set() };
  return parseJsonBody(text);
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  routes: Route[],
  limiter: AgentAuthLimiter,
  opts: MissionControlOptions,
): Promise<void> {
  const incomingId = req.headers['x-request-id'];
  const requestId = typeof incomingId === 'string' && incomingId.trim() ? incomingId.trim() : randomUUID().replace(/-/g, '');
  const headers = { 'x-request-id': requestId };
  const fail = (status: number, detail: unknown, extra: Record<string, string> = {}): void =>
    sendJson(res, status, { detail, request_id: requestId }, { ...headers, ...extra });
  const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
  const method = (req.method ?? 'GET').toUpperCase();

  if (HEALTH_PATHS.has(url.pathname)) {
    opts.stats.record('health', method);
    if (method === 'GET' || method === 'HEAD') sendJson(res, 200, { ok: true }, headers);
    else fail(405, 'Method Not Allowed');
    return;
  }
  if (!url.pathname.startsWith(`${API_PREFIX}/`)) {
    opts.stats.record('other', method);
    fail(404, 'Not Found');
    return;
  }
  const found = match(routes, method, url.pathname.slice(API_PREFIX.length));
  if (found.kind !== 'found') {
    opts.stats.record(found.kind === 'method' ? found.family : 'other', method);
    if (found.kind === 'method') fail(405, 'Method Not Allowed');
    else fail(404, 'Not Found');
    return;
  }
  opts.stats.record(found.route.family, method);

  const gone = clientGone(req, res);
  if (opts.faults.mc.latencyMs > 0) await sleep(opts.faults.mc.latencyMs, gone);
  const fault = opts.faults.drawMc();
  const loseAnswer = fault === 'reset-after-commit';
  if (fault !== null) opts.stats.faults++;
  if (fault !== null && !loseAnswer) {
    if (fault === 'stall') {
      await sleep(opts.faults.mc.stallMs, gone);
      fail(504, 'Gateway Timeout');
    } else {
      const answer = FAULT_ANSWERS[fault];
      fail(answer.status, answer.detail, answer.headers);
    }
    return;
  }
  if (!authorized(req.headers.authorization, 'Bearer', opts.token)) {
    const triedAgentAuth = found.route.agents && (req.headers.authorization !== undefined || req.headers['x-agent-token'] !== undefined);
    if (triedAgentAuth && limiter.exceeded(req.socket.remoteAddress ?? 'unknown')) fail(429, 'Too Many Requests');
    else fail(401, 'Unauthorized');
    return;
  }

  let cachedBody: { value: unknown; floatPaths: Set<string> } | null = null;
  const ctx: RouteContext = {
    req,
    res,
    url,
    params: found.params,
    requestId,
    store: opts.store,
    body: async () => (cachedBody ??= requestBody(req.headers['content-type'], await readBody(req))),
  };
  try {
    checkPathIds(found.params);
    const result = await found.route.handler(ctx);
    if (result === 'streaming') return;
    // the request was handled in full (a write is committed); only its answer is lost, as a TCP reset
    if (loseAnswer) return void req.socket.resetAndDestroy();
    sendJson(res, result.status ?? 200, result.body, headers);
  } catch (err) {
    if (loseAnswer) return void req.socket.resetAndDestroy();
    if (err instanceof HttpError) fail(err.status, err.detail, err.headers);
    else if (err instanceof BodyTooLargeError) fail(413, 'Request Entity Too Large');
    else {
      opts.log(`mission-control: handler error on ${method} ${url.pathname}: ${err instanceof Error ? err.stack : String(err)}`);
      fail(500, 'Internal Server Error');
    }
  }
}
