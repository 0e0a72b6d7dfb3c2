import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MissionControlClient } from '../../src/clients/mission-control/client.js';
import { readStatus } from '../../src/model/index.js';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import { control } from '../../src/sandbox/testing/client.js';
import { CLI, runCli } from '../support/cli.js';

/**
 * Process-level crash injection for delivery: `mc-controller once` is SIGKILLed between the Discord post
 * and the mark (or while the post waits out a 429), then run again. Every round must end with exactly one
 * visible message, `mc_delivered` true and one delivery comment. Mission Control latency widens the
 * post→mark window so the kill lands inside it.
 */

const MC_LATENCY_MS = 120;
let sandbox: SandboxHandle;
let mc: MissionControlClient;
let dir: string;
let env: Record<string, string>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const faults = (body: unknown) => control(sandbox.info, 'PUT', '/faults', body);
const postsFor = async (taskId: string) =>
  ((await control(sandbox.info, 'GET', `/discord/messages?channel=${sandbox.info.discordChannelId}`)).body.messages as { content: string }[]).filter((m) =>
    m.content.includes(`Task ID: ${taskId}`),
  );
const rateLimited = async () => (await control(sandbox.info, 'GET', '/stats')).body.discord.rateLimited as number;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
  mc = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, logger: pino({ level: 'silent' }) });
  dir = mkdtempSync(join(tmpdir(), 'mc-delivery-crash-'));
  env = {
    MC_API_URL: sandbox.info.mcApiUrl,
    MC_AUTH_TOKEN: sandbox.info.mcAuthToken,
    MC_BOARD_ID: sandbox.info.boardId,
    DISCORD_API_URL: sandbox.info.discordApiUrl,
    DISCORD_BOT_TOKEN: sandbox.info.discordBotToken,
    MC_DISCORD_CHANNEL: sandbox.info.discordChannelId,
    MC_DELIVERY_BACKLOG: 'deliver',
    MC_STATE_DIR: join(dir, 'state'),
    MC_LOG_LEVEL: 'warn',
  };
  const boot = await runCli(['bootstrap'], env, { cwd: dir });
  expect(boot.code, boot.stderr).toBe(0);
}, 30_000);

afterAll(async () => {
  await sandbox?.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Starts `once` and SIGKILLs it `afterMs` after `trigger` holds; resolves with how it ended. A process that
 * finished before the kill point (the mark was already written) is a legal outcome too: it is reported.
 */
async function onceKilled(trigger: () => Promise<boolean>, afterMs: number): Promise<{ killed: boolean; code: number | null }> {
  const child = spawn(process.execPath, [CLI, 'once'], { cwd: dir, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: 'ignore' });
  const ended = new Promise<{ code: number | null }>((resolve) => child.on('exit', (code) => resolve({ code })));
  let done = false;
  void ended.then(() => (done = true));
  const deadline = Date.now() + 15_000;
  while (!done && Date.now() < deadline && !(await trigger())) await sleep(5);
  if (!done && afterMs > 0) await sleep(afterMs);
  const killed = !done && child.kill('SIGKILL');
  if (!done && !killed) child.kill('SIGKILL');
  const { code } = await ended;
  return { killed, code };
}

describe('delivery survives SIGKILL of the controller process', () => {
  const rounds: { name: string; setup: () => Promise<unknown>; trigger: (taskId: string) => Promise<boolean>; afterMs: number }[] = [
    ...[0, 25, 50, 80].map((afterMs) => ({
      name: `killed ${afterMs} ms after the message appeared (before the mark)`,
      setup: () => faults({ mc: { latencyMs: MC_LATENCY_MS } }),
      trigger: async (taskId: string) => (await postsFor(taskId)).length > 0,
      afterMs,
    })),
    {
      name: 'killed while the post waits out a 429 (intent recorded, nothing posted)',
      setup: () => faults({ discord: { rateLimitEvery: 1, retryAfterSeconds: 30 } }),
      trigger: async () => (await rateLimited()) > 0,
      afterMs: 50,
    },
  ];

  it.each(rounds.map((r, i) => [r.name, i] as const))('%s: one visible message, task delivered once', async (_name, i) => {
    const round = rounds[i]!;
    const t = await mc.createTask(sandbox.info.boardId, { title: `crash round ${i}`, status: 'done', customFieldValues: { mc_output_summary: `result of round ${i}` } });
    await round.setup();
    const first = await onceKilled(() => round.trigger(t.id), round.afterMs);
    await faults({});

    const between = (await mc.listTasks(sandbox.info.boardId)).items.find((x) => x.id === t.id)!;
    if (first.killed) {
      // the intent went into the ledger before the post; the mark did not land
      expect(Object.values(readStatus(between.fields).ledger).map((e) => e.s)).toEqual(['pending']);
      expect(between.fields['mc_delivered']).not.toBe(true);
    }

    const again = await runCli(['once'], env, { cwd: dir });
    expect(again.code, again.stderr).toBe(0);

    const posts = await postsFor(t.id);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.content).toContain(`Resultado: result of round ${i}`);
    const after = (await mc.listTasks(sandbox.info.boardId)).items.find((x) => x.id === t.id)!;
    expect(after.fields['mc_delivered']).toBe(true);
    const comments = (await mc.listComments(sandbox.info.boardId, t.id)).items.filter((c) => c.message.startsWith('[mc-controller] delivery'));
    expect(comments).toHaveLength(1);
    console.log(`crash round ${i}: ${first.killed ? 'killed mid-delivery' : `finished first (exit ${first.code})`}, recovered with one message`);
  }, 25_000);
});
