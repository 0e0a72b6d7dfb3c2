import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EmbeddedInfo } from '../src/cli/embedded.js';
import { startSandbox } from '../src/sandbox/index.js';
import { GatewayDriver } from '../test/contract/driver.js';
import { startMockProvider } from '../test/contract/mock-provider.js';
import { realGatewayInstalled, startRealGateway } from '../test/contract/real-gateway.js';
import { bootstrapFields, createTask, inParallel, putSession } from './board.js';
import { controllerEnv, runNode, scratchDir } from './child.js';
import { cpuBoundMs, ownCpuMs, processGroupCpuMs } from './cpu.js';
import { peersOf, startPeers, type Peers } from './peers.js';
import type { PassChildResult } from './pass-child.js';

/** Rows per list page, ours and the gateway's (the controller's page size). */
const PAGE = 200;
/** Unlinked inbox tasks on every board: they make session-link scan the recent sessions. */
const UNLINKED = 5;
/** Passes until converged (two that write nothing in a row); a task needs up to two writing ones, more are a bug. */
const MAX_CONVERGE = 6;

export type PassPeer = 'real-gateway' | 'simulator';

export interface PassRecord {
  bench: 'pass';
  peer: PassPeer;
  tasks: number;
  mode: 'once' | 'run';
  round: 'first' | 'unchanged';
  wallMs: number;
  gatewayCalls: number;
  gatewayFloor: number;
  mcRequests: number;
  mcFloor: number;
  writes: number;
  detail: {
    gatewayByMethod: Record<string, number>;
    gatewayBytes: number;
    cpuMs: number;
    rssMb: number;
    failures: number;
    sessions: number;
    /** passes between the first pass and the unchanged one (the last two wrote nothing) */
    convergePasses?: number;
    loadAvg1m: number;
    /**
     * First round only: the bench itself reading every session's transcript (`chat.history {limit: 20}`,
     * 32 in flight, right after the pass) — what the gateway alone needs for the reads a first pass must make.
     */
    gatewayReadFloorMs?: number;
    /**
     * First round only: CPU each party used during the pass (ms) — the controller, the real gateway's process
     * group (null for the simulator, which runs in the bench process) and the bench process (the Mission
     * Control sandbox, and the simulator when it is the peer) — and `cpuBoundMs`, their sum over this
     * machine's cores: no pass on this machine can be faster while the peers share it.
     */
    cpu?: { controllerMs: number; gatewayMs: number | null; benchProcessMs: number; cpuBoundMs: number };
  };
}

/** The peers a pass bench runs against: Mission Control (sandbox) plus one kind of gateway with N finished sessions. */
interface World {
  peers: Peers;
  sessions: number;
  /** gives the gateway `keys.length` sessions; resolves once they are all listed in a settled state */
  addSessions(keys: string[]): Promise<void>;
  /** reads every transcript once, as many at a time as the controller does; the time it took */
  readAll?(keys: string[]): Promise<number>;
  /** CPU the gateway used so far (ms), where it runs in a process of its own */
  gatewayCpuMs(): number | null;
  close(): Promise<void>;
}

async function simulatorWorld(): Promise<World> {
  const peers = await startPeers();
  const now = Date.now();
  const world: World = {
    peers,
    sessions: 0,
    async addSessions(keys) {
      // quiet for a minute already (as a board looked at by cron would mostly be), distinct times, usage reported
      await inParallel(keys, (key, i) => putSession(peers, key, now - 60_000 - i, true));
      world.sessions += keys.length;
    },
    gatewayCpuMs: () => null,
    close: () => peers.close(),
  };
  return world;
}

/** Sessions made as real model runs (the rest are created without a run); more would not finish in time here. */
const REAL_RUNS = 10;

/**
 * The real openclaw gateway of the contract suite with its mock provider. The first REAL_RUNS sessions are
 * real finished runs (chat.send → mock model reply, as the contract suite makes them); the others are real
 * gateway sessions made by `sessions.create` with a transcript written by `chat.inject` — one real turn
 * takes 30 s and more on this loaded 2-core machine, so N real runs are out of reach.
 */
async function realGatewayWorld(log: (line: string) => void): Promise<World> {
  if (!realGatewayInstalled()) throw new Error('the real gateway is not installed (.cache/real-gateway; scripts/install-real-gateway.sh)');
  const scratch = scratchDir();
  const mock = await startMockProvider();
  const gateway = await startRealGateway({ workDir: join(scratch.dir, 'gateway'), mockBaseUrl: mock.baseUrl });
  const driver = await GatewayDriver.connect(gateway.url, gateway.token);
  const sandbox = await startSandbox({ seed: 'empty' });
  const info: EmbeddedInfo = { ...sandbox.info, gatewayUrl: gateway.url, gatewayToken: gateway.token };
  const close = async () => {
    await driver.close().catch(() => undefined);
    await gateway.stop();
    await mock.close();
    await sandbox.close();
    scratch.remove();
  };
  const settled = async (keys: Set<string>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let done = 0;
      for (let offset = 0; ; offset += PAGE) {
        // generous: a loaded 2-core machine makes the real gateway's list slow while runs are still finishing
        const page = (await retryOverloaded(() => driver.request('sessions.list', { limit: PAGE, offset }, 120_000))) as { sessions: { key: string; status?: string; hasActiveRun?: boolean }[]; hasMore?: boolean };
        done += page.sessions.filter((s) => keys.has(s.key) && s.status === 'done' && !s.hasActiveRun).length;
        if (!page.hasMore || page.sessions.length === 0) break;
      }
      if (done >= keys.size) return;
      log(`${done} of ${keys.size} real runs finished`);
      if (Date.now() > deadline) throw new Error(`only ${done} of ${keys.size} real runs finished within ${timeoutMs} ms`);
      await new Promise((ok) => setTimeout(ok, 3_000));
    }
  };
  // A gateway that has been up for a while has its usage cache fresh; a brand-new one answers "refreshing"
  // for seconds, and a pass in that window has nothing to write yet, which the convergence loop would take
  // for a converged board.
  const usageFresh = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const page = (await retryOverloaded(() => driver.request('sessions.usage', { agentScope: 'all', limit: 20_000 }, 120_000))) as { cacheStatus?: { status?: string } };
      if (page.cacheStatus?.status === 'fresh') return;
      if (Date.now() > deadline) throw new Error(`sessions.usage still ${page.cacheStatus?.status} after ${timeoutMs} ms`);
      await new Promise((ok) => setTimeout(ok, 2_000));
    }
  };
  const world: World = {
    peers: peersOf(info, close),
    sessions: 0,
    async readAll(keys) {
      const started = performance.now();
      await inParallel(keys, (key) => retryOverloaded(() => driver.request('chat.history', { sessionKey: key, limit: 20 }, 120_000)), 32);
      return Math.round(performance.now() - started);
    },
    async addSessions(keys) {
      const runs = keys.slice(0, REAL_RUNS);
      await inParallel(runs, (key, i) => retryOverloaded(() => driver.send(key, `bench task ${i}: say hello`, 120_000)), 4);
      await inParallel(
        keys.slice(REAL_RUNS),
        async (key, i) => {
          await retryOverloaded(() => driver.request('sessions.create', { key }, 120_000));
          await retryOverloaded(() => driver.request('chat.inject', { sessionKey: key, message: `bench task ${i + REAL_RUNS}: hello` }, 120_000));
        },
        2,
      );
      await settled(new Set(runs), 600_000);
      await usageFresh(120_000);
      world.sessions += keys.length;
    },
    gatewayCpuMs: () => processGroupCpuMs(gateway.pid),
    close,
  };
  return world;
}

/** The real gateway answers UNAVAILABLE "worker task capacity reached" when its workers are busy: wait and retry. */
async function retryOverloaded<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      // its state workers drain their backlog in seconds to minutes on this machine: up to ~2.5 min in all
      if (attempt >= 60 || !/overloaded|capacity/.test(String(error))) throw error;
      await new Promise((ok) => setTimeout(ok, Math.min(250 * attempt, 3_000)));
    }
  }
}

const pages = (n: number) => Math.max(1, Math.ceil(n / PAGE));

/**
 * First pass on a new board of `tasks` linked tasks (+ a few unlinked ones), then the board is converged
 * with fresh `once` processes, then an unchanged pass measured as `once` (a fresh process) and as the first
 * pass of a restarted `run`.
 */
export async function passBench(peer: PassPeer, tasks: number, log: (line: string) => void = () => undefined): Promise<PassRecord[]> {
  const world = peer === 'simulator' ? await simulatorWorld() : await realGatewayWorld(log);
  const scratch = scratchDir();
  // a bench stopped from outside still stops the real gateway it started (its own process group)
  const onSignal = () => void world.close().finally(() => process.exit(130));
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const { peers } = world;
    await bootstrapFields(peers);
    const keys = Array.from({ length: tasks }, (_, i) => `agent:main:bench-pass-${i}`);
    const built = performance.now();
    await world.addSessions(keys);
    log(`${peer} ${tasks}: ${world.sessions} sessions in ${Math.round(performance.now() - built)} ms`);
    await inParallel(keys, (key, i) => createTask(peers, { title: `Pass bench task ${i}`, status: 'in_progress', fields: { mc_session_key: key } }));
    for (let i = 0; i < UNLINKED; i++) await createTask(peers, { title: `Unlinked task ${i}`, status: 'inbox' });

    const script = fileURLToPath(new URL('./pass-child.js', import.meta.url));
    const env = (mode: 'once' | 'run') =>
      controllerEnv(peers.info, { MC_STATE_DIR: `${scratch.dir}/state`, BENCH_PASS_MODE: mode, MC_RESYNC_SECONDS: '3600', MC_GATEWAY_TIMEOUT_MS: '60000' });
    const child = async (mode: 'once' | 'run'): Promise<PassChildResult> => {
      const out = await runNode(script, [], env(mode), scratch.dir, 900_000);
      return JSON.parse(out.trim().split('\n').pop()!) as PassChildResult;
    };
    const record = (mode: 'once' | 'run', round: 'first' | 'unchanged', r: PassChildResult, extra: Partial<PassRecord['detail']> = {}): PassRecord => ({
      bench: 'pass',
      peer,
      tasks,
      mode,
      round,
      wallMs: r.wallMs,
      gatewayCalls: r.gatewayCalls,
      // the session list pages and the exec approvals list: what a pass must read to see the gateway at all
      gatewayFloor: pages(world.sessions) + 1,
      mcRequests: r.mcRequests,
      // task pages and the pending-approvals page
      mcFloor: pages(tasks + UNLINKED) + 1,
      writes: r.writes,
      detail: { gatewayByMethod: r.gatewayByMethod, gatewayBytes: r.gatewayBytes, cpuMs: r.cpuMs, rssMb: r.rssMb, failures: r.failures, sessions: world.sessions, loadAvg1m: Number(loadavg()[0]!.toFixed(2)), ...extra },
    });

    const [gatewayBefore, benchBefore] = [world.gatewayCpuMs(), ownCpuMs()];
    const first = await child('once');
    const gatewayAfter = world.gatewayCpuMs();
    const gatewayMs = gatewayBefore === null || gatewayAfter === null ? null : gatewayAfter - gatewayBefore;
    const benchProcessMs = ownCpuMs() - benchBefore;
    const cpu = { controllerMs: first.cpuMs, gatewayMs, benchProcessMs, cpuBoundMs: cpuBoundMs(first.cpuMs + (gatewayMs ?? 0) + benchProcessMs) };
    const readFloor = world.readAll ? { gatewayReadFloorMs: await world.readAll(keys) } : {};
    const out: PassRecord[] = [record('once', 'first', first, { ...readFloor, cpu })];
    let convergePasses = 0;
    // converged: two passes in a row that write nothing (a reconciler may wait a pass for the gateway)
    for (let quiet = 0; quiet < 2 && convergePasses < MAX_CONVERGE; convergePasses++) quiet = (await child('once')).writes > 0 ? 0 : quiet + 1;
    out.push(record('once', 'unchanged', await child('once'), { convergePasses }));
    out.push(record('run', 'unchanged', await child('run'), { convergePasses }));
    return out;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    scratch.remove();
    await world.close();
  }
}
