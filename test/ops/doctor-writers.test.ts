import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedEnv, startEmbedded, type Embedded } from '../../src/cli/embedded.js';
import { runCli } from '../support/cli.js';

/** `doctor` says when two controllers act on one board: the same controller comment reference twice on a task. */
let embedded: Embedded;
let dir: string;
let env: Record<string, string>;

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${embedded.info.mcApiUrl}/boards/${embedded.info.boardId}${path}`, {
    method,
    headers: { authorization: `Bearer ${embedded.info.mcAuthToken}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  expect(res.ok, `${method} ${path}: ${res.status}`).toBe(true);
  return (await res.json()) as { id: string };
};

const writerCheck = async () => {
  const r = await runCli(['doctor', '--json'], env, { cwd: dir, timeoutMs: 30_000 });
  const report = JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; warning?: boolean; detail: string; hint?: string }[] };
  return report.checks.find((c) => c.name === 'single writer');
};

beforeAll(async () => {
  embedded = await startEmbedded({ seed: 'empty' });
  dir = mkdtempSync(join(tmpdir(), 'mc-doctor-writers-'));
  env = { ...embeddedEnv(embedded.info), MC_STATE_DIR: join(dir, 'state') };
  const boot = await runCli(['bootstrap'], env, { cwd: dir });
  expect(boot.code, boot.stderr).toBe(0);
});

afterAll(async () => {
  await embedded?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('doctor single-writer check', () => {
  it('passes on a board one controller writes, warns naming the task when a comment reference repeats', async () => {
    const task = await api('POST', '/tasks', { title: 'delivered twice', status: 'done' });
    await api('POST', `/tasks/${task.id}/comments`, { message: 'mc-delivery delivered automatically\n(ref:0123456789ab)' });
    const clean = await writerCheck();
    expect(clean).toMatchObject({ ok: true, detail: expect.stringMatching(/no repeated controller comment/) });
    expect(clean?.warning).toBeUndefined();

    // what a second controller with its own state folder and lock leaves behind
    await api('POST', `/tasks/${task.id}/comments`, { message: 'mc-delivery delivered automatically\n(ref:0123456789ab)' });
    const dup = await writerCheck();
    expect(dup).toMatchObject({ ok: true, warning: true });
    expect(dup!.detail).toMatch(new RegExp(`two controllers appear to act on one board: task ${task.id} .*\\(ref:0123456789ab\\) 2 times`));
    expect(dup!.hint).toMatch(/MC_STATE_DIR/);
  }, 60_000);
});
