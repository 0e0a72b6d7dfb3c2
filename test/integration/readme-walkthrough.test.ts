/**
 * The README's Quickstart and "Using it against a real board", run as documented, in order, on a fresh state
 * dir: the commands are read from the README itself, so the walkthrough breaks when the docs drift.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness/child.js';
import { parseExports } from '../support/cli.js';

/** The shell commands of the first ```sh block after a README heading, comments dropped. */
function readmeCommands(heading: string): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(`## ${heading}`));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`README has no sh block under "## ${heading}"`);
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

/** A shell command in its own process group (npm → sh → node), so stopping it stops all of it. */
class Shell {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  constructor(cmd: string, env: Record<string, string>) {
    this.proc = spawn('bash', ['-c', cmd], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, CI: '1', npm_config_update_notifier: 'false', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.proc.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.proc.on('close', (code) => resolve(code)));
  }
  async until(pred: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.proc.exitCode !== null) throw new Error(`exited (${this.proc.exitCode}) before ${what}\n${this.stderr.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms\n${this.stderr.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  async stop(): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.pid !== undefined) {
      try {
        process.kill(-this.proc.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    return this.exited;
  }
}

async function sh(cmd: string, env: Record<string, string>, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const s = new Shell(cmd, env);
  const timer = setTimeout(() => void s.stop(), timeoutMs);
  const code = await s.exited;
  clearTimeout(timer);
  return { code, stdout: s.stdout, stderr: s.stderr };
}

const started: Shell[] = [];
const start = (cmd: string, env: Record<string, string>) => {
  const s = new Shell(cmd, env);
  started.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});

describe('README walkthrough', () => {
  it('Quickstart: npm start runs the demo, and its printed next step works', async () => {
    const commands = readmeCommands('Quickstart');
    expect(commands).toEqual(['npm ci && npm start', 'npm test']);
    // `npm ci` has run (this suite runs from the installed tree) and `npm test` is this suite: `npm start` remains.
    const state = join(mkdtempSync(join(tmpdir(), 'mc-readme-')), 'sandbox');
    const demo = start('npm start', { MC_STATE_DIR: state, MC_LOG_FORMAT: 'json' });
    await demo.until(() => /watching 1 board; next resync in/.test(demo.stderr), 'the waiting line');
    const next = /next, in another terminal:\s+(source \S+ && npx mc-controller plan)/.exec(demo.stderr)?.[1];
    expect(next, demo.stderr).toBeDefined();
    expect(next).toBe(`source ${state}.env && npx mc-controller plan`);
    const plan = await sh(next!, {});
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/No changes: the board matches the desired state\./);
    const posted = /what it posted to Discord:\s+(curl -s \S+)/.exec(demo.stderr)?.[1];
    const messages = JSON.parse((await sh(posted!, {})).stdout) as { messages: { content: string }[] };
    expect(messages.messages.some((m) => m.content.includes('Approval pendente'))).toBe(true);
    // npm and the shell die of the signal; the controller under them drains and releases its lock
    await demo.stop();
    expect(demo.stderr).toMatch(/Released controller lock file/);
  }, 120_000);

  it('Using it against a real board: the documented commands in order', async () => {
    const commands = readmeCommands('Using it against a real board');
    expect(commands.filter((c) => c.startsWith('npx mc-controller'))).toEqual([
      'npx mc-controller bootstrap',
      'npx mc-controller plan',
      'npx mc-controller once',
      'npx mc-controller run',
    ]);
    // the "real board" is a sandbox; its --env lines stand for the exports the README asks for
    const board = start('node dist/src/cli/main.js sandbox --env', {});
    await board.until(() => /MC_GATEWAY_TOKEN=/.test(board.stdout), 'the sandbox env');
    const env = { ...parseExports(board.stdout), MC_STATE_DIR: join(mkdtempSync(join(tmpdir(), 'mc-readme-')), 'state'), MC_LOG_FORMAT: 'json' };
    for (const c of commands.filter((l) => l.startsWith('export '))) {
      // every variable the README exports is one the sandbox env provides
      for (const [, name] of c.matchAll(/\b([A-Z][A-Z0-9_]*)=/g)) expect(env).toHaveProperty(name!);
    }

    const bootstrap = await sh('npx mc-controller bootstrap', env);
    expect(bootstrap.code, bootstrap.stderr).toBe(0);
    expect(bootstrap.stdout).toMatch(/created 2, updated 0, noop 14/);
    const plan = await sh('npx mc-controller plan', env);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/Rotate the production API keys\s+approvals\s+discord\.post/);
    const once = await sh('npx mc-controller once', env);
    expect(once.code, once.stderr).toBe(0);
    expect(once.stdout).toMatch(/ 0 failed\)/);
    const run = start('npx mc-controller run', env);
    await run.until(() => /watching 1 board; next resync in/.test(run.stderr), 'the waiting line');
    await run.stop();
    expect(run.stderr).toMatch(/Released controller lock file/);
  }, 150_000);
});
