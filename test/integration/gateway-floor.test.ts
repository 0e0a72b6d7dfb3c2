/**
 * Issue 16: what a pass costs the gateway, counted by the simulator itself (GET /gateway/calls), with the
 * real CLI as cron and the systemd timer run it — every `once` a fresh process with a cold cache.
 * The board mixes every reader of a transcript: linked running sessions (task-update; quiet, active, one
 * stalled for the watchdog), finished runs, and unlinked tasks with recent sessions to scan (session-link).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedEnv, startEmbedded, type Embedded } from '../../src/cli/embedded.js';
import { control, mcClient } from '../../src/sandbox/testing/client.js';
import { runCli } from '../support/cli.js';

const MIN = 60_000;
const LINKED_RUNNING = 12;
const LINKED_DONE = 6;
const UNLINKED_TASKS = 5;
const RECENT_SESSIONS = 20;

let peers: Embedded;
let cwd: string;
let env: Record<string, string>;
const unlinkedIds: string[] = [];

const calls = async (): Promise<Record<string, number>> => (await control(peers.info, 'GET', '/gateway/calls')).body.calls;
const mcWrites = async (): Promise<number> => (await control(peers.info, 'GET', '/stats')).body.mc.writes;
const putSession = (key: string, body: Record<string, unknown>) => control(peers.info, 'PUT', `/sessions/${encodeURIComponent(key)}`, body);

/** One `once` in a fresh process; the gateway calls and Mission Control writes it made. */
async function once(extra: Record<string, string> = {}): Promise<{ calls: Record<string, number>; writes: number; stdout: string }> {
  await control(peers.info, 'POST', '/gateway/calls/reset');
  const before = await mcWrites();
  const r = await runCli(['once'], { ...env, ...extra }, { cwd, timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  return { calls: await calls(), writes: (await mcWrites()) - before, stdout: r.stdout };
}

beforeAll(async () => {
  peers = await startEmbedded({ seed: 'empty' });
  cwd = mkdtempSync(join(tmpdir(), 'mc-floor-'));
  env = { ...embeddedEnv(peers.info), MC_STATE_DIR: join(cwd, 'state'), MC_LOG_LEVEL: 'warn', MC_STALLED_MINUTES: '30' };
  expect((await runCli(['bootstrap'], env, { cwd })).code).toBe(0);
  const mc = mcClient(peers.info);
  const now = Date.now();
  const say = (text: string, at: number) => ({ role: 'assistant', text, timestamp: at });
  // runs that called a model report usage (sessions without any are the cost reconciler's own bounded retry)
  const usage = { costUsd: 0.12, inputTokens: 4000, outputTokens: 900 };
  for (let i = 0; i < LINKED_RUNNING; i++) {
    const key = `agent:main:subagent:floor-run-${i}`;
    // quiet for minutes, one silent past the stall threshold
    const at = i === 0 ? now - 45 * MIN : now - (5 + i) * MIN;
    await putSession(key, {
      status: 'running',
      lastActivityAt: at,
      usage,
      messages: [{ role: 'user', text: `work ${i}`, timestamp: at - 1000 }, say(`TASK_UPDATE {"status":"in_progress","progress":${10 + i}}`, at)],
    });
    await mc.createTask({ title: `running ${i}`, status: 'in_progress', custom_field_values: { mc_session_key: key } });
  }
  for (let i = 0; i < LINKED_DONE; i++) {
    const key = `agent:main:subagent:floor-done-${i}`;
    await putSession(key, { status: 'done', lastActivityAt: now - 20 * MIN, usage, messages: [{ role: 'user', text: 'go' }, say(`finished ${i}`, now - 20 * MIN)] });
    await mc.createTask({ title: `done ${i}`, status: 'in_progress', custom_field_values: { mc_session_key: key } });
  }
  for (let i = 0; i < UNLINKED_TASKS; i++) unlinkedIds.push((await mc.createTask({ title: `unlinked ${i}`, status: 'inbox' })).body.id);
  for (let i = 0; i < RECENT_SESSIONS; i++)
    await putSession(`agent:main:floor-recent-${i}`, { status: 'done', lastActivityAt: now - (2 + i) * MIN, messages: [{ role: 'user', text: `unrelated request ${i}` }] });
}, 60_000);

afterAll(async () => {
  await peers?.close();
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

describe('gateway calls of a pass (counting simulator, fresh `once` processes)', () => {
  it('first pass: each session read at most once however many readers and unlinked tasks want it', async () => {
    // MC_CONCURRENCY high: many keys want the same sessions at the same time
    const first = await once({ MC_CONCURRENCY: '8' });
    const sessions = LINKED_RUNNING + LINKED_DONE + RECENT_SESSIONS;
    expect(first.calls['chat.history'] ?? 0).toBeGreaterThan(0);
    expect(first.calls['chat.history'] ?? 0).toBeLessThanOrEqual(sessions);
    expect(first.calls['sessions.list']).toBe(1);
    // usage of the 18 linked trees: one answer about every session instead of a call per tree
    expect(first.calls['sessions.usage'] ?? 0).toBe(1);
  }, 90_000);

  it('an unchanged board costs the floor: the session list page, no transcript read, no usage read, no write', async () => {
    // converge (a task needs up to two writing passes)
    let converged = false;
    for (let i = 0; i < 4 && !converged; i++) converged = (await once()).writes === 0;
    expect(converged).toBe(true);
    const steady = await once();
    // the floor: one sessions.list page and the exec approvals list (a one-shot pass does not subscribe)
    expect(steady.calls).toEqual({ 'sessions.list': 1, 'exec.approval.list': 1 });
    expect(steady.writes).toBe(0);

    // a session that changed since the version its task's ledger recorded is the only read
    await putSession('agent:main:subagent:floor-run-5', { status: 'running', lastActivityAt: Date.now() - 2 * MIN, usage: { costUsd: 0.2, inputTokens: 5000, outputTokens: 1000 } });
    const one = await once({ MC_CONCURRENCY: '8' });
    expect(one.calls['chat.history']).toBe(1);
    expect(one.calls['sessions.usage'] ?? 0).toBeLessThanOrEqual(2);
  }, 180_000);

  it('sessions that changed seconds ago (not yet quiet) cost no re-read either once their tasks were written', async () => {
    const mc = mcClient(peers.info);
    const at = Date.now() - 5_000;
    for (let i = 0; i < 4; i++) {
      const key = `agent:main:subagent:floor-fresh-${i}`;
      await putSession(key, {
        status: 'running',
        lastActivityAt: at,
        usage: { costUsd: 0.01, inputTokens: 100, outputTokens: 10 },
        messages: [{ role: 'user', text: `fresh ${i}`, timestamp: at - 1000 }, { role: 'assistant', text: 'on it', timestamp: at }],
      });
      await mc.createTask({ title: `fresh ${i}`, status: 'in_progress', custom_field_values: { mc_session_key: key } });
    }
    // the first pass writes these tasks (conditions, status line); the consumed version rides along
    const first = await once();
    expect(first.writes).toBeGreaterThan(0);
    let converged = false;
    for (let i = 0; i < 3 && !converged; i++) converged = (await once()).writes === 0;
    expect(converged).toBe(true);
    // well inside the minute after which a session counts as quiet: only the ride-along record spares the reads
    expect(Date.now() - at).toBeLessThan(60_000);
    const steady = await once();
    expect(steady.calls).toEqual({ 'sessions.list': 1, 'exec.approval.list': 1 });
    expect(steady.writes).toBe(0);
  }, 120_000);
});

