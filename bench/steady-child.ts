/**
 * The controller side of the steady-state bench, in its own process so that its RSS is the controller's
 * alone: bootstrap, one warm-up pass, then the measured pass. Prints one JSON line on stdout.
 * Configuration comes from the environment like the real CLI (MC_API_URL, MC_GATEWAY_URL, ...).
 */
import pino from 'pino';
import { loadConfig } from '../src/config/index.js';
import { DESIRED_FIELDS } from '../src/model/index.js';
import { MissionControlClient } from '../src/clients/mission-control/index.js';
import { GatewayClient } from '../src/clients/gateway/index.js';
import type { GatewayApi } from '../src/clients/gateway/index.js';
import { GatewaySource } from '../src/runtime/gateway-source.js';
import { runBootstrap } from '../src/runtime/bootstrap.js';
import { compose } from '../src/cli/compose.js';
import { EffectsDoor } from '../src/runtime/effects/door.js';
import { handlersFor } from '../src/cli/handlers.js';
import { VERSION } from '../src/cli/version.js';

export interface PassNumbers {
  wallMs: number;
  /** CPU the controller process itself used during the pass (user + system); the rest of wallMs is waiting on peers */
  cpuMs: number;
  mcRequests: number;
  gatewayRequests: number;
  gatewayByMethod: Record<string, number>;
  writes: number;
  actions: number;
  failures: number;
}

/** A pass that writes is not steady yet; the cost reconciler needs a second look once usage is fresh. */
const MAX_WARMUPS = 4;

export interface SteadyChildResult {
  /** every warm-up pass, until one wrote nothing */
  warmup: PassNumbers[];
  steady: PassNumbers;
  rssAfterGcMb: number;
  heapAfterGcMb: number;
  /** a sync alone after the steady pass: listing cost without planning */
  syncMs: number;
  /** after module loading and client construction, before any pass: the controller's fixed cost */
  baselineRssMb: number;
  rssMb: number;
  heapUsedMb: number;
}

/** Counts gateway round trips (the client reports its own pages for sessions.list). */
function counting(api: GatewayClient): { api: GatewayApi; count: () => number; byMethod: Record<string, number> } {
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
  };
  return { api: wrapped, count: () => n, byMethod };
}

async function main(): Promise<void> {
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
    reconnect: false,
  });
  const gw = counting(client);
  const gateway = new GatewaySource(gw.api, logger);
  const door = EffectsDoor.open();
  const { controller } = compose({ config, logger, mc: door.missionControl(mc), gateway, handlers: handlersFor(config, logger, door), door });

  const baselineRssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
  await runBootstrap(mc, DESIRED_FIELDS, config.mc.boardIds, { dryRun: false });
  const measure = async (): Promise<PassNumbers> => {
    const gwBefore = gw.count();
    const methodsBefore = { ...gw.byMethod };
    const started = performance.now();
    const cpu = process.cpuUsage();
    const report = await controller.pass('apply');
    const used = process.cpuUsage(cpu);
    return {
      wallMs: Math.round(performance.now() - started),
      cpuMs: Math.round((used.user + used.system) / 1000),
      mcRequests: report.requests,
      gatewayRequests: gw.count() - gwBefore,
      gatewayByMethod: Object.fromEntries(Object.entries(gw.byMethod).map(([m, k]) => [m, k - (methodsBefore[m] ?? 0)])),
      writes: report.writes,
      actions: report.entries.length,
      failures: report.failures.length,
    };
  };
  const warmup: PassNumbers[] = [];
  do warmup.push(await measure());
  while (warmup.at(-1)!.writes > 0 && warmup.length < MAX_WARMUPS);
  const steady = await measure();
  const mem = process.memoryUsage();
  // The sync alone (board + gateway lists, no planning), to split the steady pass's wall time.
  const syncStarted = performance.now();
  await controller.sync('apply');
  const syncMs = Math.round(performance.now() - syncStarted);
  // RSS right after the pass includes garbage not yet collected; after a full GC it is the live set plus code.
  (globalThis as { gc?: () => void }).gc?.();
  const afterGc = process.memoryUsage();
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  const result: SteadyChildResult = {
    baselineRssMb,
    warmup,
    steady,
    syncMs,
    rssMb: mb(mem.rss),
    heapUsedMb: mb(mem.heapUsed),
    rssAfterGcMb: mb(afterGc.rss),
    heapAfterGcMb: mb(afterGc.heapUsed),
  };
  await client.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`steady-child: ${(err as Error).message}\n`);
  process.exit(1);
});
