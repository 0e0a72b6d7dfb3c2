import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedEnv, type EmbeddedInfo } from '../../../src/cli/embedded.js';
import { Child, freePort, runToEnd, waitHttpOk } from './child.js';
import { controllerImage } from './image.js';
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
  if (mode === 'container') return onceInContainer(env, args);
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
  if (mode === 'container') return runInContainer(e, probeUrl);
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
  const image = await controllerImage();
  const state = env.MC_STATE_DIR;
  return image
    .withNetworkMode('host')
    .withEnvironment(env)
    .withBindMounts(state ? [{ source: state, target: state, mode: 'rw' }] : []);
}

async function onceInContainer(env: Env, args: string[]): Promise<OnceResult> {
  const tc = await loadTestcontainers();
  // The one-shot wait strategy succeeds only when the container exits 0.
  try {
    const container = await (await containerFor(env)).withCommand(['once', ...args]).withWaitStrategy(tc.Wait.forOneShotStartup()).start();
    let out = '';
    (await container.logs()).on('data', (d: Buffer | string) => (out += d.toString()));
    await container.stop({ timeout: 0 });
    // Container logs interleave both streams; callers assert on either.
    return { code: 0, signal: null, stdout: out, stderr: out };
  } catch (err) {
    return { code: 1, signal: null, stdout: '', stderr: (err as Error).message };
  }
}

async function runInContainer(env: Env, probeUrl: string): Promise<RunningController> {
  const tc = await loadTestcontainers();
  const container = await (await containerFor(env)).withCommand(['run']).withWaitStrategy(tc.Wait.forLogMessage(/./)).start();
  let alive = true;
  return {
    mode: 'container',
    probeUrl,
    crash: async () => {
      alive = false;
      await container.stop({ timeout: 0 });
    },
    stop: async () => {
      alive = false;
      await container.stop({ timeout: 10_000 });
    },
    running: () => alive,
    stderrTail: () => '(see the container log)',
  };
}
