import pino from 'pino';
import { compose } from '../src/cli/compose.js';
import { handlersFor } from '../src/cli/handlers.js';
import { VERSION } from '../src/cli/version.js';
import { GatewayClient, type GatewayApi } from '../src/clients/gateway/index.js';
import { MissionControlClient } from '../src/clients/mission-control/index.js';
import { loadConfig } from '../src/config/index.js';
import { EffectsDoor } from '../src/runtime/effects/door.js';
import { GatewaySource } from '../src/runtime/gateway-source.js';

/** Counts gateway round trips per method (the client reports its own pages for sessions.list). */
export function countingGateway(api: GatewayClient): { api: GatewayApi; count: () => number; byMethod: Record<string, number> } {
  let n = 0;
  const byMethod: Record<string, number> = {};
  const hit = (m: string, k = 1) => {
    n += k;
    byMethod[m] = (byMethod[m] ?? 0) + k;
  };
  const wrapped: GatewayApi = {
    connect: () => api.connect(),
    close: () => api.close(),
    get hello() {
      return api.hello;
    },
    listSessions: async () => {
      const r = await api.listSessions();
      hit('sessions.list', r.requests);
      return r;
    },
    chatHistory: (k, limit) => (hit('chat.history'), api.chatHistory(k, limit)),
    listExecApprovals: () => (hit('exec.approval.list'), api.listExecApprovals()),
    sessionUsage: (k) => (hit('sessions.usage'), api.sessionUsage(k)),
    sessionUsageAll: (limit) => (hit('sessions.usage'), api.sessionUsageAll(limit)),
  };
  return { api: wrapped, count: () => n, byMethod };
}

/**
 * The controller as `src/cli/compose.ts` builds it, configured from the environment like the CLI, with its
 * gateway client counted: what the bench's controller children run.
 */
export function countedController(opts: { reconnect: boolean; subscribe: boolean }) {
  const { config } = loadConfig({ env: process.env, flags: {} });
  const logger = pino({ level: process.env.MC_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const mc = new MissionControlClient({ apiUrl: config.mc.apiUrl!, token: config.mc.authToken!, timeoutMs: config.mc.timeoutMs, logger });
  const client = new GatewayClient({
    url: config.gateway.url!,
    token: config.gateway.token!,
    clientVersion: VERSION,
    requestTimeoutMs: config.gateway.requestTimeoutMs,
    scopes: config.gateway.scopes,
    logger,
    ...opts,
  });
  const gw = countingGateway(client);
  const gateway = new GatewaySource(gw.api, logger);
  const door = EffectsDoor.open();
  const guarded = door.missionControl(mc);
  const { controller } = compose({ config, logger, mc: guarded, gateway, handlers: handlersFor(config, logger, door), door });
  return { config, mc: guarded, client, gw, controller };
}
