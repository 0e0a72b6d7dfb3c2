import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { Child, runToEnd } from '../harness/child.js';
import { controllerEnv, stateDir } from '../harness/controller-provider.js';
import { scenario, useStage } from '../harness/runner.js';

/**
 * Dry-run writes nothing, by construction: every command that can reach the guarantee (`run` with MC_DRY_RUN=1,
 * `run --dry-run`, `once --dry-run`, `plan`, a standby `run` that does not hold the lock, and the one-shot writers
 * `bootstrap`, `task create` and `cost report --post`) runs over a board
 * with an undelivered done task, a pending approval, a stale session and a degraded host whose kill allowlist
 * matches a live process. Afterwards: no Discord post, no Mission Control write (no task's updated_at moved, no
 * comment), no file written in the state folder, and the allowlisted process still runs.
 */
const stage = useStage({ seed: 'empty' });
const FIXTURE = fileURLToPath(new URL('../../fixtures/host/meminfo-only', import.meta.url));
const HOUR = 3_600_000;
const tag = `${process.pid}-${Date.now()}`;

let victim: ChildProcess;
let hostRoot: string;
let env: (state: string, extra?: Record<string, string>) => Record<string, string>;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Everything a write could change, as an operator sees it. */
async function worldState() {
  const { world } = stage;
  const tasks = [...(await world.tasks()).values()];
  const comments = await Promise.all(tasks.map(async (t) => [t.id, (await world.comments(t.id)).length] as const));
  const stats = await world.stats();
  return {
    updatedAt: Object.fromEntries(tasks.map((t) => [t.id, t.updated_at])),
    comments: Object.fromEntries(comments),
    mcWrites: stats.mc.writes,
    discordPosts: stats.discord.posts,
    messages: (await world.messages()).length,
  };
}

/** File name → content of a state folder (empty when the folder does not exist). */
function files(dir: string): Record<string, string> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return {};
  }
  return Object.fromEntries(names.map((n) => [n, readFileSync(join(dir, n), 'utf8')]));
}

async function until(what: string, ok: () => boolean, child: Child, timeoutMs = 25_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (!child.running) throw new Error(`controller exited before ${what}\n${child.stderrTail()}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${child.stderrTail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  const { world } = stage;
  // an undelivered done task, a pending approval on a task in review, a session silent for two hours
  await world.createTask({ title: 'dry-run: done, undelivered', status: 'done', fields: { mc_output_summary: 'result that must not be posted' } });
  const reviewed = await world.createTask({ title: 'dry-run: awaiting approval', status: 'review' });
  await world.createApproval(reviewed.id, 'dry-run must not announce this');
  const sessionKey = `agent:qa:subagent:dry-run-stale-${tag}`;
  await world.session(sessionKey, { status: 'running', lastActivityAt: Date.now() - 2 * HOUR });
  const stale = await world.createTask({ title: 'dry-run: stale session', status: 'in_progress', fields: { mc_session_key: sessionKey } });
  await world.backdate(stale.id, { in_progress_at: new Date(Date.now() - 3 * HOUR).toISOString() });

  // a live process the kill allowlist matches, visible under a host root whose memory is 97 % used
  victim = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', `mc-dry-run-victim-${tag}`], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 200));
  hostRoot = mkdtempSync(join(tmpdir(), 'mc-dry-host-'));
  cpSync(FIXTURE, hostRoot, { recursive: true });
  const total = 8_000_000;
  const available = Math.round(total * 0.03);
  writeFileSync(join(hostRoot, 'proc/meminfo'), `MemTotal:        ${total} kB\nMemFree:         ${available} kB\nMemAvailable:    ${available} kB\n`);
  symlinkSync(`/proc/${victim.pid}`, join(hostRoot, 'proc', String(victim.pid)));

  env = (state, extra = {}) =>
    controllerEnv(stage.info, state, {
      MC_LOG_LEVEL: 'debug',
      MC_WATCHDOG_SCOPE: 'all',
      MC_DELIVERY_BACKLOG: 'deliver',
      MC_HOST_ROOT: hostRoot,
      MC_RESOURCE_WARN_PCT: '80',
      MC_RESOURCE_DEGRADE_PCT: '90',
      MC_RESOURCE_RECOVER_PCT: '85',
      MC_RESOURCE_KILL_PCT: '90',
      MC_DEGRADE_ENTER_DWELL_SECONDS: '0',
      MC_RESOURCE_MONITOR_KILL: '1',
      MC_RESOURCE_KILL_ALLOWLIST: `*mc-dry-run-victim-${tag}*`,
      MC_RESOURCE_KILL_GRACE_SECONDS: '1',
      ...extra,
    });
});

afterAll(() => {
  if (victim?.pid && alive(victim.pid)) victim.kill('SIGKILL');
  if (hostRoot) rmSync(hostRoot, { recursive: true, force: true });
});

/** Runs `body` with a fresh state folder (seeded by `seed`) and asserts that nothing anywhere changed. */
async function writesNothing(seed: (state: string) => void, body: (state: string) => Promise<void>): Promise<void> {
  const dir = stateDir('mc-dry-state-');
  try {
    seed(dir.path);
    const before = await worldState();
    const filesBefore = files(dir.path);
    await body(dir.path);
    expect(await worldState()).toEqual(before);
    expect(files(dir.path)).toEqual(filesBefore);
    expect(alive(victim.pid!)).toBe(true);
  } finally {
    dir.remove();
  }
}

/** `run` until it has planned (and been refused) a post, a task write and the kill; then SIGTERM. */
async function runUntilPlanned(args: string[], state: string, extra: Record<string, string>, prefix: string): Promise<void> {
  const child = new Child(args, env(state, extra));
  try {
    const planned = (action: string) => child.stderr.includes(`${prefix}: would ${action}`);
    await until(`a planned post, task write and kill (${prefix})`, () => planned('discord.post') && planned('task.patch') && planned('process.kill'), child);
    // a few more passes' worth of time: events and resyncs must not write either
    await new Promise((r) => setTimeout(r, 2_500));
  } finally {
    await child.stop();
  }
  expect(child.exitCode).toBe(0);
}

const noSeed = () => undefined;

describe('dry-run, plan and standby write nothing (one door that refuses)', () => {
  scenario(
    'run with MC_DRY_RUN=1',
    () => writesNothing(noSeed, (state) => runUntilPlanned(['run'], state, { MC_DRY_RUN: '1' }, 'dry-run')),
    60_000,
  );

  scenario(
    'run --dry-run (global flag, after and before the command)',
    async () => {
      await writesNothing(noSeed, (state) => runUntilPlanned(['run', '--dry-run'], state, {}, 'dry-run'));
      await writesNothing(noSeed, (state) => runUntilPlanned(['--dry-run', 'run'], state, {}, 'dry-run'));
    },
    90_000,
  );

  scenario('once --dry-run and plan', async () => {
    for (const args of [['once', '--dry-run'], ['--dry-run', 'once', '--json'], ['plan'], ['plan', '--json']]) {
      await writesNothing(noSeed, async (state) => {
        const r = await runToEnd(args, env(state));
        expect(r.code, `${args.join(' ')}\n${r.stderr.slice(-2000)}`).toBe(0);
        // it did see the work: the post and the task write are in its plan
        expect(r.stdout).toContain('discord.post');
        expect(r.stdout).toContain('task.patch');
      });
    }
  });

  scenario(
    'a standby run (another live process holds the lock)',
    () =>
      writesNothing(
        (state) => {
          mkdirSync(state, { recursive: true });
          writeFileSync(join(state, 'controller.lock'), `${JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: Date.now(), identity: 'test-holder' })}\n`);
        },
        (state) => runUntilPlanned(['run'], state, {}, 'standby'),
      ),
    60_000,
  );

  scenario('bootstrap, task create and cost report --post honour the global --dry-run', async () => {
    const { info } = stage;
    const auth = { authorization: `Bearer ${info.mcAuthToken}` };
    // a drifted field default gives bootstrap something to repair
    const defs = (await (await fetch(`${info.mcApiUrl}/organizations/me/custom-fields`, { headers: auth })).json()) as { id: string; field_key: string }[];
    const drifted = defs.find((d) => d.field_key === 'mc_estimated_cost_usd')!;
    const patch = await fetch(`${info.mcApiUrl}/organizations/me/custom-fields/${drifted.id}`, {
      method: 'PATCH',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ default_value: 7 }),
    });
    expect(patch.status, await patch.text()).toBe(200);
    try {
      await writesNothing(noSeed, async (state) => {
        const b = await runToEnd(['--dry-run', 'bootstrap', '--json'], env(state));
        expect(b.code, b.stderr).toBe(0);
        expect(JSON.parse(b.stdout)).toMatchObject({ dryRun: true, updated: ['mc_estimated_cost_usd'] });
        // the executor described the repair it was handed instead of applying it
        expect(b.stderr).toContain('dry-run: would field.update: mc_estimated_cost_usd: default 7 → 0');
        const t = await runToEnd(['--dry-run', 'task', 'create', '--title', 'dry-run: never created', '--description', 'x'], env(state));
        expect(t.code, t.stderr).toBe(0);
        expect(t.stdout).toContain('(dry run) would create "dry-run: never created"');
        expect(t.stderr).toContain('dry-run: would task.create');
        const c = await runToEnd(['cost', 'report', '--post', '--dry-run'], env(state));
        expect(c.code, c.stderr).toBe(0);
        expect(c.stdout).toContain('dry-run, not posted');
        expect(c.stderr).toContain('dry-run: would discord.post: cost report');
      });
    } finally {
      expect((await runToEnd(['bootstrap'], controllerEnv(info, stage.state))).code).toBe(0);
    }
  });
});
