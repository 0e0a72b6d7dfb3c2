/**
 * One controller pass in a fresh process, as cron and the systemd timer run `once` (BENCH_PASS_MODE=once), or the
 * first pass of `run` after a (re)start (BENCH_PASS_MODE=run: the loop's resync plus every key through the work
 * queue, until the queue is idle). The gateway client is counted per method. Prints one JSON line.
 * Configuration comes from the environment like the real CLI (MC_API_URL, MC_GATEWAY_URL, ...).
 */
import pino from 'pino';
import { loadConfig } from '../src/config/index.js';
import { MissionControlClient } from '../src/clients/mission-control/index.js';
import { GatewayClient } from '../src/clients/gateway/index.js';
import { GatewaySource } from '../src/runtime/gateway-source.js';
import { compose } from '../src/cli/compose.js';
import { handlersFor } from '../src/cli/handlers.js';
import { VERSION } from '../src/cli/version.js';
import { countingGateway } from './counting.js';

export interface PassChildResult {
  mode: 'once' | 'run';
  wallMs: number;
  cpuMs: number;
  mcRequests: number;
  writes: number;
  gatewayCalls: number;
  gatewayByMethod: Record<string, number>;
  failures: number;
  rssMb: number;
}

async function main(): Promise<void> {
  const mode = process.env.BENCH_PASS_MODE === 'run' ? 'run' : 'once';
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
    reconnect: mode === 'run',
    subscribe: mode === 'run',
  });
  const gw = countingGateway(client);
  const gateway = new GatewaySource(gw.api, logger);
  const { controller } = compose({ config, logger, mc, gateway, handlers: handlersFor(config, logger), dryRun: false });
  const before = { ...mc.stats };
  const started = performance.now();
  const cpu = process.cpuUsage();
  let failures = 0;
  if (mode === 'once') failures = (await controller.pass('apply')).failures.length;
  else {
    await controller.start();
    await controller.idle();
  }
  const wallMs = Math.round(performance.now() - started);
  const used = process.cpuUsage(cpu);
  const result: PassChildResult = {
    mode,
    wallMs,
    cpuMs: Math.round((used.user + used.system) / 1000),
    mcRequests: mc.stats.requests - before.requests,
    writes: mc.stats.writes - before.writes,
    gatewayCalls: gw.count(),
    gatewayByMethod: gw.byMethod,
    failures,
    rssMb: Math.round(process.memoryUsage().rss / 2 ** 20),
  };
  if (mode === 'run') await controller.stop(1_000);
  await client.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`pass-child: ${(err as Error).message}\n`);
  process.exit(1);
});
