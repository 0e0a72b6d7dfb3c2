import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The built CLI (`npm test` builds first; run `npx tsc -p .` when iterating). */
export const CLI = fileURLToPath(new URL('../../../dist/src/cli/main.js', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const TAIL = 4_000;

/** A child process whose output is kept (stdout whole, stderr's tail) for assertions and error messages. */
export class Child {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  private lineWaiters: Array<(line: string) => boolean> = [];

  constructor(args: string[], env: Record<string, string | undefined>, opts: { cwd?: string } = {}) {
    this.proc = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd,
      // Only what the test gives plus PATH/HOME: the developer's MC_* variables must not leak in.
      env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.proc.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      this.stdout += text;
      partial += text;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const line = partial.slice(0, nl);
        partial = partial.slice(nl + 1);
        this.lineWaiters = this.lineWaiters.filter((w) => !w(line));
      }
    });
    this.proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-64_000);
    });
    this.exited = new Promise((resolve) => {
      this.proc.on('close', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        resolve();
      });
      this.proc.on('error', (err) => {
        this.stderr += `\nspawn error: ${err.message}`;
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  get running(): boolean {
    return this.exitCode === null && this.signal === null && this.proc.exitCode === null;
  }

  stderrTail(): string {
    return this.stderr.slice(-TAIL);
  }

  /** Resolves with the first stdout line that parses as a JSON object; rejects when the child exits first or the deadline passes. */
  readyLine<T>(what: string, timeoutMs = 15_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(`${what}: no ready line within ${timeoutMs} ms`), timeoutMs);
      const fail = (msg: string) => {
        clearTimeout(timer);
        reject(new Error(`${msg}\n--- stderr tail ---\n${this.stderrTail()}`));
      };
      void this.exited.then(() => fail(`${what} exited (code ${this.exitCode}, signal ${this.signal}) before it was ready`));
      this.lineWaiters.push((line) => {
        try {
          const parsed = JSON.parse(line) as unknown;
          if (!parsed || typeof parsed !== 'object') return false;
          clearTimeout(timer);
          resolve(parsed as T);
          return true;
        } catch {
          return false;
        }
      });
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running && this.proc.pid !== undefined) process.kill(this.proc.pid, signal);
  }

  /** SIGTERM, then SIGKILL when it does not exit within the grace; always awaits the exit. */
  async stop(graceMs = 8_000): Promise<void> {
    if (!this.running) return this.exited;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Runs the CLI to completion (bounded); the result keeps stdout and stderr whole. */
export async function runToEnd(args: string[], env: Record<string, string | undefined>, opts: { cwd?: string; timeoutMs?: number } = {}) {
  const child = new Child(args, env, opts);
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  await child.exited;
  clearTimeout(timer);
  return { code: child.exitCode, signal: child.signal, stdout: child.stdout, stderr: child.stderr };
}

/** A free port on 127.0.0.1 (listen on 0, read it, close): for children that only accept a port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` every 100 ms until it answers 2xx; fails early when `alive()` turns false. */
export async function waitHttpOk(url: string, opts: { timeoutMs?: number; alive?: () => boolean; describe?: () => string } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    if (opts.alive && !opts.alive()) throw new Error(`process exited before ${url} answered\n${opts.describe?.() ?? ''}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${opts.timeoutMs ?? 15_000} ms\n${opts.describe?.() ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
