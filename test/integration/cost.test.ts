import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MissionControlClient } from '../../src/clients/mission-control/client.js';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import { control } from '../../src/sandbox/testing/client.js';
import { runCli } from '../support/cli.js';

/** `mc-controller cost report` as a child process against the sandbox: paging past 200 tasks, posting once a day. */

let sandbox: SandboxHandle;
let mc: MissionControlClient;
let env: Record<string, string>;
let cwd: string;
const created: { id: string; cost: number; status: string }[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  mc = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, logger: pino({ level: 'silent' }) });
  cwd = mkdtempSync(join(tmpdir(), 'mc-cost-'));
  env = {
    MC_API_URL: sandbox.info.mcApiUrl,
    MC_AUTH_TOKEN: sandbox.info.mcAuthToken,
    MC_BOARD_ID: sandbox.info.boardId,
    MC_STATE_DIR: join(cwd, 'state'),
    MC_LOG_LEVEL: 'warn',
    DISCORD_API_URL: sandbox.info.discordApiUrl,
    DISCORD_BOT_TOKEN: sandbox.info.discordBotToken,
    MC_DISCORD_CHANNEL: sandbox.info.discordChannelId,
  };
  // more than one page (the API caps limit at 200), across statuses the kit ignored
  const statuses = ['done', 'review', 'in_progress', 'inbox'] as const;
  for (let i = 0; i < 210; i += 1) {
    const cost = i < 3 ? [4.5, 2.25, 1.125][i]! : i % 7 === 0 ? 0 : 0.01;
    const status = statuses[i % statuses.length]!;
    const t = await mc.createTask(sandbox.info.boardId, { title: `cost task ${i} @everyone`, status, customFieldValues: { mc_actual_cost_usd: cost } });
    created.push({ id: t.id, cost, status });
  }
}, 60_000);

afterAll(async () => {
  await sandbox.close();
  rmSync(cwd, { recursive: true, force: true });
});

const discordMessages = async () =>
  (await control(sandbox.info, 'GET', `/discord/messages?channel=${sandbox.info.discordChannelId}`)).body.messages as { id: string; content: string }[];

describe('mc-controller cost report', () => {
  it('reads every page and totals every status', async () => {
    const all = (await mc.listTasks(sandbox.info.boardId)).items;
    const r = await runCli(['cost', 'report', '--json', '--days', '7'], env, { cwd });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { tasks: number; totalUsd: number; top: { taskId: string; costUsd: number; status: string }[]; byBoard: { tasks: number }[] };
    expect(all.length).toBeGreaterThan(200);
    expect(report.tasks).toBe(all.length);
    expect(report.byBoard[0]?.tasks).toBe(all.length);
    // what the board says, every page of it (the demo seed's tasks carry costs of their own)
    const costOf = (t: (typeof all)[number]) => Number(t.fields['mc_actual_cost_usd'] ?? 0) || 0;
    expect(report.totalUsd).toBeCloseTo(all.reduce((s, t) => s + costOf(t), 0), 6);
    expect(report.totalUsd).toBeGreaterThanOrEqual(created.reduce((s, c) => s + c.cost, 0) - 1e-9);
    const largest = [...all].sort((a, b) => costOf(b) - costOf(a)).slice(0, 3);
    expect(report.top.slice(0, 3).map((t) => [t.taskId, t.costUsd, t.status])).toEqual(largest.map((t) => [t.id, costOf(t), t.status]));
    expect(report.top.every((t) => t.costUsd > 0)).toBe(true);
  });

  it('--post posts the legacy report once; a re-run the same day posts nothing new', async () => {
    const before = (await discordMessages()).length;
    const first = await runCli(['cost', 'report', '--post'], env, { cwd });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Discord: posted/);
    const second = await runCli(['cost', 'report', '--post', '--json'], env, { cwd });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).post).toMatchObject({ posted: false });
    const after = await discordMessages();
    expect(after.length).toBe(before + 1);
    const message = after.at(-1)!.content;
    expect(message.startsWith('[Mission Control] Cost report (últimos 7 dias)\n')).toBe(true);
    expect(message).toMatch(/Top 5 por custo:\n- \$4\.50 \| cost task 0 @\u200beveryone \| done/);
    expect(message.length).toBeLessThanOrEqual(2000);
    expect(first.stdout + second.stdout + first.stderr).not.toContain(sandbox.info.discordBotToken);
    // the channel is the record: a cron run writes nothing into the state folder the controller owns
    expect(existsSync(env.MC_STATE_DIR!)).toBe(false);
  });

  it('--post --dry-run prints the message and posts nothing; bad --days exits 2', async () => {
    const before = (await discordMessages()).length;
    const dry = await runCli(['cost', 'report', '--post', '--dry-run', '--days', '30'], { ...env, MC_LOG_LEVEL: 'info' }, { cwd });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/dry-run, not posted[\s\S]*últimos 30 dias/);
    // the executor described the post it was handed instead of applying it
    expect(dry.stderr).toContain('dry-run: would discord.post: cost report of the last 30 days');
    expect((await discordMessages()).length).toBe(before);
    const bad = await runCli(['cost', 'report', '--days', 'week'], env, { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--days/);
  });
});
