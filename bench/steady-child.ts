/**
 * The controller side of the steady-state bench, in its own process so that its RSS is the controller's
 * alone: bootstrap, one warm-up pass, then the measured pass. Prints one JSON line on stdout.
 * Configuration comes from the environment like the real CLI (MC_API_URL, MC_GATEWAY_URL, ...).
 */
import pino from 'pino';
import { DESIRED_FIELDS } from '../src/model/index.js';
import { runBootstrap } from '../src/runtime/bootstrap.js';
import { countedController } from './counting.js';

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

async function main(): Promise<void> {
  const { config, mc, client, gw, controller } = countedController({ reconnect: false, subscribe: true });

  const baselineRssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
  await runBootstrap({ mc, executor: controller.executor, logger: pino({ level: 'silent' }), closed: null }, DESIRED_FIELDS, config.mc.boardIds);
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
