import { fileURLToPath } from 'node:url';
import { buildLinkedBoard, bootstrapFields, listAllTasks } from './board.js';
import { controllerEnv, runNode, scratchDir } from './child.js';
import { startPeers, type ServerStats } from './peers.js';
import type { SteadyChildResult } from './steady-child.js';

const PAGE = 200;

export interface SteadyResult {
  bench: 'steady-pass';
  tasks: number;
  wallMs: number;
  requests: number;
  lowerBound: number;
  writes: number;
  rssMb: number;
  /** beyond the keys, for the doc */
  detail: {
    sessionsWithUsage: boolean;
    mcRequests: number;
    gatewayRequests: number;
    serverRequests: number;
    serverWrites: number;
    warmup: SteadyChildResult['warmup'];
    heapUsedMb: number;
    rssAfterGcMb: number;
    heapAfterGcMb: number;
    cpuMs: number;
    syncMs: number;
    sandboxTaskPagesMs: number;
    freshProcess: { firstPass: SteadyChildResult['steady']; steady: SteadyChildResult['steady']; rssMb: number; rssAfterGcMb: number; heapAfterGcMb: number };
    baselineRssMb: number;
    gatewayByMethod: Record<string, number>;
    buildMs: number;
  };
}

/**
 * One steady-state measurement: a board of `tasks` in-progress tasks, each linked to a running session,
 * then a separate controller process that bootstraps, warms up with one pass and measures the next.
 */
export async function steadyPass(tasks: number, opts: { usage: boolean } = { usage: true }): Promise<SteadyResult> {
  const peers = await startPeers();
  const scratch = scratchDir();
  try {
    const built = performance.now();
    await bootstrapFields(peers);
    await buildLinkedBoard(peers, tasks, opts);
    const buildMs = Math.round(performance.now() - built);

    // The server's counters cover the whole child run; the steady pass's own share is read from the
    // client counters, and the server's writes after the warm-up tell whether the steady pass wrote.
    await peers.control('POST', '/stats/reset');
    const script = fileURLToPath(new URL('./steady-child.js', import.meta.url));
    const out = await runNode(script, ['--expose-gc'], controllerEnv(peers.info, { MC_STATE_DIR: `${scratch.dir}/state` }), scratch.dir, 900_000);
    const child = JSON.parse(out.trim().split('\n').pop()!) as SteadyChildResult;
    const server = await peers.control<ServerStats>('GET', '/stats');
    // A fresh controller process against the converged board: its first pass must not write either, and
    // its memory is what a restarted controller holds without the warm-up passes' churn.
    const freshOut = await runNode(script, ['--expose-gc'], controllerEnv(peers.info, { MC_STATE_DIR: `${scratch.dir}/state` }), scratch.dir, 900_000);
    const fresh = JSON.parse(freshOut.trim().split('\n').pop()!) as SteadyChildResult;
    // The sandbox's share of a sync: the same sequential task pages, fetched by the bench without parsing.
    const listStarted = performance.now();
    await listAllTasks(peers);
    const sandboxTaskPagesMs = Math.round(performance.now() - listStarted);

    const pages = (n: number) => Math.max(1, Math.ceil(n / PAGE));
    // tasks + pending approvals (none here: one page) + sessions
    const lowerBound = pages(tasks) + pages(0) + pages(tasks);
    const requests = child.steady.mcRequests + child.steady.gatewayRequests;
    return {
      bench: 'steady-pass',
      tasks,
      wallMs: child.steady.wallMs,
      requests,
      lowerBound,
      writes: child.steady.writes,
      rssMb: child.rssMb,
      detail: {
        sessionsWithUsage: opts.usage,
        mcRequests: child.steady.mcRequests,
        gatewayRequests: child.steady.gatewayRequests,
        serverRequests: server.mc.requests,
        serverWrites: server.mc.writes,
        warmup: child.warmup,
        heapUsedMb: child.heapUsedMb,
        rssAfterGcMb: child.rssAfterGcMb,
        heapAfterGcMb: child.heapAfterGcMb,
        cpuMs: child.steady.cpuMs,
        syncMs: child.syncMs,
        sandboxTaskPagesMs,
        freshProcess: { firstPass: fresh.warmup[0]!, steady: fresh.steady, rssMb: fresh.rssMb, rssAfterGcMb: fresh.rssAfterGcMb, heapAfterGcMb: fresh.heapAfterGcMb },
        baselineRssMb: child.baselineRssMb,
        gatewayByMethod: child.steady.gatewayByMethod,
        buildMs,
      },
    };
  } finally {
    scratch.remove();
    await peers.close();
  }
}
