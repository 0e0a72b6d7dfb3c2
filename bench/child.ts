import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedEnv, type EmbeddedInfo } from '../src/cli/embedded.js';

/** The environment a controller needs for the bench peers; tokens go through env, never argv. */
export function controllerEnv(info: EmbeddedInfo, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    ...embeddedEnv(info),
    MC_LEADER_ELECTION: 'none',
    MC_PROBE_ADDR: '127.0.0.1:0',
    MC_METRICS_ADDR: '127.0.0.1:0',
    MC_LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** A scratch working folder so no config file or state folder of the checkout is read or written. */
export function scratchDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'mc-bench-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The V8 flags the shipped image and systemd units set (Dockerfile NODE_OPTIONS): measured as deployed. */
export const DEPLOYED_NODE_ARGS = '--max-semi-space-size=2 --max-old-space-size=384';

/** Node flags for controller children: the deployed ones, or BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"). */
const nodeArgs = (): string[] => (process.env.BENCH_NODE_ARGS ?? DEPLOYED_NODE_ARGS).split(/\s+/).filter(Boolean);

/** Runs a node script to completion and returns its stdout; rejects with the stderr tail on failure or timeout. */
export function runNode(script: string, flags: string[], env: NodeJS.ProcessEnv, cwd: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, ...nodeArgs(), script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${script} exited ${code ?? signal}: ${err.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

/** Starts a long-running node process; resolves once a stderr line contains `readyText`. */
export function startNode(script: string, args: string[], env: NodeJS.ProcessEnv, cwd: string, readyText: string, timeoutMs: number): Promise<{ child: ChildProcess; stop(): Promise<void>; stderrTail(): string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs(), script, ...args], { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let tail = '';
    let ready = false;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
      }
    };
    const timer = setTimeout(() => {
      if (!ready) {
        child.kill('SIGKILL');
        reject(new Error(`controller not ready after ${timeoutMs} ms: ${tail.slice(-500)}`));
      }
    }, timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-8000);
      if (!ready && tail.includes(readyText)) {
        ready = true;
        clearTimeout(timer);
        resolve({ child, stop, stderrTail: () => tail });
      }
    });
    child.once('exit', (code) => {
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`controller exited ${code} before ready: ${tail.slice(-500)}`));
      }
    });
  });
}
