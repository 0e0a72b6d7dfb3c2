import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedEnv, type EmbeddedInfo } from '../../../src/cli/embedded.js';
import { Child, freePort, runToEnd, waitHttpOk } from './child.js';
import { controllerImage, hostPathMounts } from './image.js';
import { loadTestcontainers, resolveMode, type DepMode } from './mode.js';

/**
 * The controller under test: the real CLI as a separate process (or the repo's image in container
 * mode), configured only through its environment, built from the sandbox's ready line.
 */

export type Env = Record<string, string>;

/** A fresh state folder per controller identity; crash tests reuse one across restarts on purpose. */
export function stateDir(prefix = 'mc-scn-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function controllerEnv(info: EmbeddedInfo, state: string, extra: Env = {}): Env {
  return {
    ...embeddedEnv(info),
    MC_STATE_DIR: state,
    MC_LOG_LEVEL: 'warn',
    // Parallel test files each run controllers: never the default fixed probe/metrics ports.
    MC_PROBE_ADDR: '127.0.0.1:0',
    MC_METRICS_ADDR: '127.0.0.1:0',
    // The simulator advertises exec.approval.list to admins only (docs/gateway.md).
    MC_GATEWAY_SCOPES: 'operator.read,operator.admin',
    ...extra,
  };
}

export interface OnceResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export async function once(env: Env, args: string[] = [], opts: { mode?: DepMode; timeoutMs?: number } = {}): Promise<OnceResult> {
  const mode = opts.mode ?? (await resolveMode());
  if (mode === 'container') return onceInContainer(env, args, opts.timeoutMs ?? 60_000);
  return runToEnd(['once', ...args], env, { timeoutMs: opts.timeoutMs ?? 30_000 });
}

export interface RunningController {
  mode: DepMode;
  probeUrl: string;
  /** kill -9: no shutdown hook runs. */
  crash(): Promise<void>;
  /** SIGTERM and wait (orderly shutdown). */
  stop(): Promise<void>;
  running(): boolean;
  stderrTail(): string;
}

/** `mc-controller run`; resolves once spawned, or once /healthz answers when `waitReady`. */
export async function startRun(env: Env, opts: { waitReady?: boolean; mode?: DepMode } = {}): Promise<RunningController> {
  const mode = opts.mode ?? (await resolveMode());
  const port = await freePort();
  const e = { ...env, MC_PROBE_ADDR: `127.0.0.1:${port}` };
  const probeUrl = `http://127.0.0.1:${port}`;
  if (mode === 'container') return runInContainer(e, probeUrl, opts.waitReady ?? false);
  const child = new Child(['run'], e);
  const handle: RunningController = {
    mode,
    probeUrl,
    crash: async () => {
      child.kill('SIGKILL');
      await child.exited;
    },
    stop: () => child.stop(),
    running: () => child.running,
    stderrTail: () => child.stderrTail(),
  };
  if (opts.waitReady) {
    try {
      await waitHttpOk(`${probeUrl}/healthz`, { alive: () => child.running, describe: () => `--- stderr tail ---\n${child.stderrTail()}` });
    } catch (err) {
      await child.stop(1_000);
      throw err;
    }
  }
  return handle;
}

async function containerFor(env: Env) {
  return (await controllerImage()).withNetworkMode('host').withEnvironment(env).withBindMounts(hostPathMounts(env));
}

/** The engine's handle on a started container: exit status, kill, per-stream logs. */
async function engineHandle(id: string) {
  const tc = await loadTestcontainers();
  return (await tc.getContainerRuntimeClient()).container.getById(id);
}

/** One stream of a container's log: the engine multiplexes stdout/stderr in 8-byte-framed chunks (no TTY). */
async function streamLog(id: string, which: 'stdout' | 'stderr'): Promise<string> {
  const raw = (await (await engineHandle(id)).logs({ stdout: which === 'stdout', stderr: which === 'stderr', follow: false })) as unknown as Buffer;
  const parts: Buffer[] = [];
  for (let at = 0; at + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString();
}

async function onceInContainer(env: Env, args: string[], timeoutMs: number): Promise<OnceResult> {
  const container = await (await containerFor(env)).withCommand(['once', ...args]).start();
  const handle = await engineHandle(container.getId());
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void handle.kill({ signal: 'SIGKILL' }).catch(() => undefined);
  }, timeoutMs);
  try {
    const { StatusCode } = (await handle.wait()) as { StatusCode: number };
    const [stdout, stderr] = await Promise.all([streamLog(container.getId(), 'stdout'), streamLog(container.getId(), 'stderr')]);
    return timedOut ? { code: null, signal: 'SIGKILL', stdout, stderr } : { code: StatusCode, signal: null, stdout, stderr };
  } finally {
    clearTimeout(timer);
    await container.stop({ timeout: 0 });
  }
}

async function runInContainer(env: Env, probeUrl: string, waitReady: boolean): Promise<RunningController> {
  const container = await (await containerFor(env)).withCommand(['run']).start();
  const handle = await engineHandle(container.getId());
  let alive = true;
  let log = '';
  (await container.logs()).on('data', (d: Buffer | string) => (log = (log + d.toString()).slice(-64_000)));
  const exited = handle.wait().then(
    () => void (alive = false),
    () => void (alive = false),
  );
  const remove = async () => {
    await exited;
    await container.stop({ timeout: 0 });
  };
  const controller: RunningController = {
    mode: 'container',
    probeUrl,
    crash: async () => {
      // SIGKILL straight away: a stop would send SIGTERM first and let the shutdown hooks run.
      await handle.kill({ signal: 'SIGKILL' }).catch(() => undefined);
      await remove();
    },
    stop: async () => {
      await handle.kill({ signal: 'SIGTERM' }).catch(() => undefined);
      const timer = setTimeout(() => void handle.kill({ signal: 'SIGKILL' }).catch(() => undefined), 10_000);
      await remove();
      clearTimeout(timer);
    },
    running: () => alive,
    stderrTail: () => log.slice(-4_000),
  };
  if (waitReady) {
    try {
      await waitHttpOk(`${probeUrl}/healthz`, { timeoutMs: 30_000, alive: () => alive, describe: () => `--- container log tail ---\n${log.slice(-4_000)}` });
    } catch (err) {
      await controller.crash();
      throw err;
    }
  }
  return controller;
}
