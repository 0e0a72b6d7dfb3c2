import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MissionControlClient } from '../../src/clients/mission-control/client.js';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import { control } from '../../src/sandbox/testing/client.js';
import { CLI } from '../support/cli.js';

/**
 * The real controller (`mc-controller run`, a child process) against the sandbox: a new approval reaches
 * the Discord fake within 5 s through the approvals SSE stream. The resync is 300 s, so the poll cannot
 * be what delivers it; the sandbox's stream polls every 2 s like upstream.
 */

const LATENCY_LIMIT_MS = 5_000;
let sandbox: SandboxHandle;
let mc: MissionControlClient;
let dir: string;
let controller: ChildProcess;
let output = '';
let exited: Promise<number | null>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== null && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- controller output ---\n${output.slice(-4000)}`);
    await sleep(everyMs);
  }
}

const messages = async () =>
  (await control(sandbox.info, 'GET', `/discord/messages?channel=${sandbox.info.discordChannelId}`)).body.messages as { id: string; content: string }[];
const streamRequests = async () => ((await control(sandbox.info, 'GET', '/stats')).body.mc.byFamily.stream?.requests ?? 0) as number;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  mc = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, logger: pino({ level: 'silent' }) });
  dir = mkdtempSync(join(tmpdir(), 'mc-approval-latency-'));
  const streamsBefore = await streamRequests();
  controller = spawn(process.execPath, [CLI, 'run'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MC_API_URL: sandbox.info.mcApiUrl,
      MC_AUTH_TOKEN: sandbox.info.mcAuthToken,
      MC_BOARD_ID: sandbox.info.boardId,
      DISCORD_API_URL: sandbox.info.discordApiUrl,
      DISCORD_BOT_TOKEN: sandbox.info.discordBotToken,
      MC_DISCORD_CHANNEL: sandbox.info.discordChannelId,
      MC_RESYNC_SECONDS: '300',
      MC_PROBE_ADDR: '127.0.0.1:0',
      MC_METRICS_ADDR: '127.0.0.1:0',
      MC_STATE_DIR: join(dir, 'state'),
      MC_LOG_LEVEL: 'info',
      MC_DRAIN_SECONDS: '5',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  controller.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  controller.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  exited = new Promise((resolve) => controller.on('exit', (code) => resolve(code)));
  // ready = the loop started and both board streams (tasks, approvals) are connected
  await until('the controller to run', () => /"msg":"mc-controller running"/.test(output), 20_000);
  await until('both SSE streams', async () => (await streamRequests()) >= streamsBefore + 2, 10_000);
  const probes = /"probes":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output)?.[1];
  expect(probes, 'probe server URL in the log').toBeDefined();
  await until('/readyz', async () => (await fetch(`${probes}/readyz`).catch(() => null))?.ok, 10_000);
}, 40_000);

afterAll(async () => {
  if (controller && controller.exitCode === null && controller.signalCode === null) controller.kill('SIGKILL');
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Creates an approval and returns how long until its 🔔 notice is in the Discord fake. */
async function announceLatency(taskId: string, reason: string): Promise<{ approvalId: string; ms: number }> {
  const started = Date.now();
  const approval = await mc.createApproval(sandbox.info.boardId, { actionType: 'task.complete', confidence: 80, taskId, payload: { reason } });
  const notice = await until(
    `the notice of approval ${approval.id}`,
    async () => (await messages()).find((m) => m.content.includes(`Approval ID: ${approval.id}`)),
    LATENCY_LIMIT_MS + 5_000,
  );
  const ms = Date.now() - started;
  expect(notice.content.startsWith('🔔')).toBe(true);
  expect(notice.content).toContain(reason);
  return { approvalId: approval.id, ms };
}

describe('approval notices through the SSE stream, real controller process', () => {
  it('announces a new approval within 5 s, and a second one on the same task after the first is resolved', async () => {
    const task = await mc.createTask(sandbox.info.boardId, { title: 'Latency probe task', status: 'inbox' });
    await sleep(500); // let the task's own stream event settle, so the approval is the only news

    const first = await announceLatency(task.id, 'first approval for latency');
    console.log(`approval notice latency (first): ${first.ms} ms`);
    expect(first.ms).toBeLessThan(LATENCY_LIMIT_MS);

    // upstream allows one pending approval per task: resolve the first, then ask again
    await mc.updateApproval(sandbox.info.boardId, first.approvalId, 'approved');
    const second = await announceLatency(task.id, 'second approval on the same task');
    console.log(`approval notice latency (second, same task): ${second.ms} ms`);
    expect(second.ms).toBeLessThan(LATENCY_LIMIT_MS);

    const notices = (await messages()).filter((m) => m.content.includes(`Task ID: ${task.id}`) && m.content.startsWith('🔔'));
    expect(notices).toHaveLength(2);
  }, 30_000);

  it('SIGTERM stops the controller with exit 0', async () => {
    controller.kill('SIGTERM');
    const code = await Promise.race([exited, sleep(20_000).then(() => 'timeout' as const)]);
    expect(code, output.slice(-2000)).toBe(0);
    expect(output).not.toContain(sandbox.info.mcAuthToken);
    expect(output).not.toContain(sandbox.info.discordBotToken);
  }, 25_000);
});
