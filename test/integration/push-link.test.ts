/**
 * Issue 12 item 5: a session spawned for a task (label = task id, or `MC Task: <id>` in its first message)
 * is linked and its TASK_UPDATE mirrored on the gateway's `sessions.changed` push, not at the next resync.
 * The real controller (`mc-controller run`, a child process) with MC_RESYNC_SECONDS=120 against the
 * sandbox and the gateway simulator: within the test's bounds only the push can explain the link.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedEnv, startEmbedded, type Embedded } from '../../src/cli/embedded.js';
import { control, mcClient } from '../../src/sandbox/testing/client.js';
import { CLI, runCli } from '../support/cli.js';

/** Far below the 120 s resync (plus jitter): what only the push path can meet. */
const BOUND_MS = 15_000;

let peers: Embedded;
let dir: string;
let controller: ChildProcess;
let output = '';
const ids: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- controller output ---\n${output.slice(-4000)}`);
    await sleep(25);
  }
}

const taskRow = async (id: string) => (await mcClient(peers.info).allTasks()).find((t) => t.id === id);

beforeAll(async () => {
  peers = await startEmbedded({ seed: 'empty' });
  dir = mkdtempSync(join(tmpdir(), 'mc-push-link-'));
  const env = { ...embeddedEnv(peers.info), MC_STATE_DIR: join(dir, 'state'), MC_LOG_LEVEL: 'info' };
  expect((await runCli(['bootstrap'], env, { cwd: dir })).code).toBe(0);
  const mc = mcClient(peers.info);
  for (const title of ['spawned with its id as label', 'spawned with the MC Task marker'])
    ids.push((await mc.createTask({ title, status: 'inbox' })).body.id);
  controller = spawn(process.execPath, [CLI, 'run'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, MC_RESYNC_SECONDS: '120', MC_PROBE_ADDR: '127.0.0.1:0', MC_METRICS_ADDR: '127.0.0.1:0', MC_DRAIN_SECONDS: '5' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  controller.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  controller.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await until('the controller to run', async () => (/"msg":"mc-controller running"/.test(output) ? true : undefined), 20_000);
  // the first resync has looked at both tasks (unlinked, nothing to do): what follows is news from the push
  await sleep(1_000);
}, 40_000);

afterAll(async () => {
  if (controller && controller.exitCode === null && controller.signalCode === null) {
    controller.kill('SIGTERM');
    await Promise.race([new Promise((ok) => controller.once('exit', ok)), sleep(10_000)]);
    if (controller.exitCode === null) controller.kill('SIGKILL');
  }
  await peers?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a session spawned for a task is linked on the push', () => {
  const report = (id: string) => `TASK_UPDATE {"taskId":"${id}","status":"in_progress","progress":40}`;

  for (const [i, how] of [
    [0, 'label = task id'],
    [1, '"MC Task: <id>" in its first message'],
  ] as const) {
    it(`${how}: linked, in_progress and its TASK_UPDATE mirrored well before the 120 s resync`, async () => {
      const id = ids[i]!;
      const key = `agent:main:subagent:push-${i}-${id.slice(0, 8)}`;
      const started = Date.now();
      const put = await control(peers.info, 'PUT', `/sessions/${encodeURIComponent(key)}`, {
        status: 'running',
        ...(i === 0 ? { label: id } : {}),
        messages: [
          { role: 'user', text: i === 0 ? 'Write the report.' : `Write the report.\n\nMC Task: ${id}` },
          { role: 'assistant', text: `Started.\n${report(id)}` },
        ],
      });
      expect(put.status).toBe(200);
      const mirrored = await until(
        'the link and the mirrored progress',
        async () => {
          const t = await taskRow(id);
          return t?.custom_field_values?.mc_session_key === key && t.custom_field_values.mc_progress === 40 ? t : undefined;
        },
        BOUND_MS,
      );
      console.log(`push → linked and mirrored (${how}): ${Date.now() - started} ms`);
      expect(mirrored.status).toBe('in_progress');
    }, BOUND_MS + 10_000);
  }
});
