/**
 * One controller pass in a fresh process, as cron and the systemd timer run `once` (BENCH_PASS_MODE=once), or the
 * first pass of `run` after a (re)start (BENCH_PASS_MODE=run: the loop's resync plus every key through the work
 * queue, until the queue is idle). The gateway client is counted per method. Prints one JSON line.
 * Configuration comes from the environment like the real CLI (MC_API_URL, MC_GATEWAY_URL, ...).
 */
import { countedController } from './counting.js';

export interface PassChildResult {
  mode: 'once' | 'run';
  wallMs: number;
  cpuMs: number;
  mcRequests: number;
  writes: number;
  gatewayCalls: number;
  gatewayByMethod: Record<string, number>;
  /** bytes the gateway sent during the pass (answers, plus any push or tick that arrived meanwhile) */
  gatewayBytes: number;
  failures: number;
  rssMb: number;
}

async function main(): Promise<void> {
  const mode = process.env.BENCH_PASS_MODE === 'run' ? 'run' : 'once';
  const { mc, client, gw, controller } = countedController({ reconnect: mode === 'run', subscribe: mode === 'run' });
  const before = { ...mc.stats };
  const bytesBefore = client.stats.bytesReceived;
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
    gatewayBytes: client.stats.bytesReceived - bytesBefore,
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
