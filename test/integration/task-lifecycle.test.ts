/**
 * The task lifecycle end to end through the built CLI: create → spawn-payload → link / update by hand, and
 * the loop's auto-link and TASK_UPDATE mirroring against the embedded Mission Control and gateway simulator.
 * World state is read back through the Mission Control API and the sandbox's request counters.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MissionControlClient } from '../../src/clients/mission-control/index.js';
import { startEmbedded, type Embedded } from '../../src/cli/embedded.js';
import { readStatus, type Task } from '../../src/model/index.js';
import { runCli } from '../support/cli.js';

let embedded: Embedded;
let env: Record<string, string>;
let cwd: string;
let mc: MissionControlClient;
let AGENT_UUID: string;
let DATA_BOT_UUID: string;
const NO_AGENT_UUID = '0b5a7c8e-2f4d-4c1a-9e3b-6d7f8a9b0c1d';

const stats = async () => (await (await fetch(`${embedded.info.controlUrl}/stats`)).json()) as { mc: { requests: number; writes: number } };
const getTask = async (id: string): Promise<Task> => (await mc.listTasks(embedded.info.boardId)).items.find((t) => t.id === id)!;
const comments = async (id: string) => (await mc.listComments(embedded.info.boardId, id)).items.map((c) => c.message);
const putSession = async (key: string, body: unknown) => {
  const res = await fetch(`${embedded.info.controlUrl}/sessions/${encodeURIComponent(key)}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
};
const create = async (title: string, extra: string[] = []) => {
  const r = await runCli(['task', 'create', '--title', title, '--description', `Do ${title}.`, ...extra], env, { cwd });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
};
const input = (name: string, text: string) => {
  const path = join(cwd, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(async () => {
  embedded = await startEmbedded({ seed: 'empty' });
  cwd = mkdtempSync(join(tmpdir(), 'mc-task-'));
  const configPath = join(cwd, 'mission-control-ids.json');
  // Mission Control agents are provisioned through a gateway upstream; the sandbox's control API adds them.
  const agent = async (name: string): Promise<string> => {
    const res = await fetch(`${embedded.info.controlUrl}/mc/agents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ board_id: embedded.info.boardId, name }),
    });
    return ((await res.json()) as { id: string }).id;
  };
  AGENT_UUID = await agent('Luan');
  DATA_BOT_UUID = await agent('Data bot');
  writeFileSync(configPath, JSON.stringify({ agents: { luan: AGENT_UUID, data_bot: DATA_BOT_UUID, ghost: NO_AGENT_UUID } }));
  const { discordApiUrl: _a, discordBotToken: _b, discordChannelId: _c, ...info } = embedded.info;
  env = {
    MC_API_URL: info.mcApiUrl,
    MC_AUTH_TOKEN: info.mcAuthToken,
    MC_BOARD_ID: info.boardId,
    MC_GATEWAY_URL: info.gatewayUrl,
    MC_GATEWAY_TOKEN: info.gatewayToken,
    MC_CONFIG_PATH: configPath,
    MC_STATE_DIR: join(cwd, 'state'),
    MC_LEADER_ELECTION: 'none',
    MC_LOG_LEVEL: 'warn',
  };
  mc = new MissionControlClient({ apiUrl: info.mcApiUrl, token: info.mcAuthToken });
});

afterAll(async () => {
  await embedded?.close();
});

describe('task create', () => {
  it('refuses on a board without the controller fields, then creates an inbox task marked as ours', async () => {
    const refused = await runCli(['task', 'create', '--title', 'x', '--description', 'y'], env, { cwd });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/mc_conditions.*not bound.*mc-controller bootstrap/);
    expect((await runCli(['bootstrap'], env, { cwd })).code).toBe(0);

    const r = await runCli(['task', 'create', '--title', 'Quarterly report', '--description', 'Numbers {Q3}', '--assignee', 'Luan', '--estimated-cost', '1.5', '--priority', 'high', '--json'], env, { cwd });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { id: string; status: string; assignedAgentId: string };
    expect(out).toMatchObject({ status: 'inbox', assignedAgentId: AGENT_UUID });
    const t = await getTask(out.id);
    expect(t).toMatchObject({ status: 'inbox', priority: 'high', title: 'Quarterly report' });
    expect(t.fields.mc_estimated_cost_usd).toBe(1.5);
    expect(readStatus(t.fields).ledger['flow:created']).toMatchObject({ s: 'done' });
  });

  it('resolves data-bot to data_bot; an unknown name exits 2 listing the known ones; --dry-run writes nothing', async () => {
    const ok = await runCli(['task', 'create', '--title', 'a', '--description', 'b', '--assignee', 'Data-Bot', '--json', '--dry-run'], env, { cwd });
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ dryRun: true, assignedAgentId: DATA_BOT_UUID });
    const before = await stats();
    const bad = await runCli(['task', 'create', '--title', 'a', '--description', 'b', '--assignee', 'nobody'], env, { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown assignee "nobody"; known agents: data_bot, ghost, luan/);
    expect((await stats()).mc.writes).toBe(before.mc.writes);
  });

  it('refuses an assignee that is no Mission Control agent (upstream would answer a bare 500): exit 2, nothing written', async () => {
    const before = await stats();
    const titles = async () => (await mc.listTasks(embedded.info.boardId)).items.map((t) => t.title);
    for (const assignee of [NO_AGENT_UUID, 'ghost']) {
      const r = await runCli(['task', 'create', '--title', 'Nobody works here', '--description', 'x', '--assignee', assignee], env, { cwd });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`agent not found: no agent ${NO_AGENT_UUID}`);
      expect(r.stderr).not.toContain('Internal Server Error');
    }
    expect(await titles()).not.toContain('Nobody works here');
    expect((await stats()).mc.writes).toBe(before.mc.writes);
  });
});

describe('task spawn-payload', () => {
  it('prints sessions_spawn args: task with real newlines and the contract, label = task id; refused while degraded unless --force', async () => {
    const id = await create('Spawnable');
    const r = await runCli(['task', 'spawn-payload', id, '--agent', 'main', '--timeout', '900', '--json'], env, { cwd });
    expect(r.code, r.stderr).toBe(0);
    const args = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(args).sort()).toEqual(['agentId', 'label', 'mode', 'runTimeoutSeconds', 'task']);
    expect(args).toMatchObject({ label: id, agentId: 'main', runTimeoutSeconds: 900, mode: 'run' });
    const text = args.task as string;
    expect(text.split('\n').length).toBeGreaterThan(5);
    expect(text).not.toContain('\\n');
    expect(text).toContain('Spawnable');
    expect(text).toContain('Do Spawnable.');
    expect(text).toContain(`MC Task: ${id}`);
    expect(text).toContain(`TASK_UPDATE {"taskId":"${id}"`);

    const stateFile = join(cwd, 'resource-state.json');
    writeFileSync(stateFile, JSON.stringify({ mode: 'degrade', entered_at_ms: Date.now() }));
    const refused = await runCli(['task', 'spawn-payload', id], { ...env, MC_RESOURCE_STATE_FILE: stateFile }, { cwd });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/degrade mode is active.*--force/);
    expect(refused.stdout).toBe('');
    const forced = await runCli(['task', 'spawn-payload', id, '--force', '--json'], { ...env, MC_RESOURCE_STATE_FILE: stateFile }, { cwd });
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ label: id });
  });
});

describe('task link', () => {
  it('links with one comment; a second identical run writes nothing', async () => {
    const id = await create('Linkable');
    const first = await runCli(['task', 'link', id, 'agent:main:subagent:manual-1', '--json'], env, { cwd });
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ changed: true });
    const t = await getTask(id);
    expect(t.status).toBe('in_progress');
    expect(t.fields.mc_session_key).toBe('agent:main:subagent:manual-1');
    expect(readStatus(t.fields).conditions.find((c) => c.type === 'SessionLinked')?.status).toBe('True');
    const afterFirst = await comments(id);
    expect(afterFirst.filter((c) => c.includes('linked by `mc-controller task link`'))).toHaveLength(1);

    const before = await stats();
    const second = await runCli(['task', 'link', id, 'agent:main:subagent:manual-1', '--json'], env, { cwd });
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ changed: false });
    expect((await stats()).mc.writes).toBe(before.mc.writes);
    expect(await comments(id)).toEqual(afterFirst);
  });
});

describe('task update', () => {
  it('mirrors the last valid block once; garbage changes nothing; --strict and a taskId mismatch exit 2', async () => {
    const id = await create('Updatable');
    const before = await stats();
    const garbage = await runCli(['task', 'update', '--task-id', id, '--input', input('garbage.txt', 'no block {here')], env, { cwd });
    expect(garbage.code, garbage.stderr).toBe(0);
    expect((await stats()).mc.writes).toBe(before.mc.writes);
    expect((await getTask(id)).fields.mc_progress).toBe(0);
    const strict = await runCli(['task', 'update', '--task-id', id, '--strict', '--input', input('garbage.txt', '')], env, { cwd });
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/no TASK_UPDATE block found/);
    const mismatch = await runCli(['task', 'update', '--task-id', id, '--input', input('other.txt', 'TASK_UPDATE {"taskId":"another-task","status":"done"}')], env, { cwd });
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/taskId mismatch/);

    const text = [
      'Step one. TASK_UPDATE {"taskId":"' + id + '","status":"in_progress","progress":40}',
      'Final. TASK_UPDATE {"taskId":"' + id + '","status":"done","progress":100,"summary":"wrote {report} \\"v2\\"","cost":0.31}',
      'TASK_UPDATE {"broken": ',
    ].join('\n');
    const file = input('agent.txt', text);
    const r = await runCli(['task', 'update', '--input', file, '--json'], env, { cwd });
    expect(r.code, r.stderr).toBe(0);
    const t = await getTask(id);
    // the sandbox board, like upstream's default, requires an approved approval before done: review + Blocked
    expect(t.status).toBe('review');
    expect(readStatus(t.fields).conditions.find((c) => c.type === 'Blocked')).toMatchObject({ status: 'True', reason: 'DoneAwaitingApproval' });
    expect(t.fields).toMatchObject({ mc_progress: 100, mc_output_summary: 'wrote {report} "v2"', mc_actual_cost_usd: 0.31 });
    const mirrored = (await comments(id)).filter((c) => c.includes('TASK_UPDATE from the CLI'));
    expect(mirrored).toHaveLength(1);

    const again = await stats();
    const second = await runCli(['task', 'update', '--input', file, '--json'], env, { cwd });
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ changed: false });
    expect((await stats()).mc.writes).toBe(again.mc.writes);
  });
});

describe('the loop: auto-link and TASK_UPDATE mirroring', () => {
  const once = async () => {
    const r = await runCli(['once'], env, { cwd, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    return r;
  };

  it('links a session labelled with the task id and one whose first message names the task; mirrors a block exactly once', async () => {
    const byLabel = await create('Auto by label');
    const byMessage = await create('Auto by message');
    const labelled = 'agent:main:subagent:auto-label';
    const named = 'agent:main:subagent:auto-message';
    await putSession(labelled, {
      status: 'running',
      label: byLabel,
      messages: [
        { role: 'user', text: `[Subagent Context] work\n\nMC Task: ${byLabel}\nTASK_UPDATE {"taskId":"${byLabel}","status":"in_progress","progress":50}` },
        { role: 'assistant', text: `Half way.\nTASK_UPDATE {"taskId":"${byLabel}","status":"in_progress","progress":45,"summary":"draft {1}"}` },
      ],
    });
    await putSession(named, { status: 'running', messages: [{ role: 'user', text: `Please handle taskId=${byMessage} today` }] });

    await once(); // links both
    for (const [id, key] of [[byLabel, labelled], [byMessage, named]] as const) {
      const t = await getTask(id);
      expect(t.status).toBe('in_progress');
      expect(t.fields.mc_session_key).toBe(key);
    }
    await once(); // mirrors the assistant's block (the prompt's example block in the user message is not mirrored)
    const t = await getTask(byLabel);
    expect(t.fields.mc_progress).toBe(45);
    const before = await stats();
    const third = await once();
    expect(third.stdout).toMatch(/ 0 writes/);
    expect((await stats()).mc.writes).toBe(before.mc.writes);
    const cs = await comments(byLabel);
    expect(cs.filter((c) => c.includes('linked automatically'))).toHaveLength(1);
    expect(cs.filter((c) => c.includes('TASK_UPDATE from session'))).toHaveLength(1);

    // a later block in the running session is mirrored on the next pass, once
    await fetch(`${embedded.info.controlUrl}/sessions/${encodeURIComponent(labelled)}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'assistant', text: `TASK_UPDATE {"taskId":"${byLabel}","status":"done","summary":"report sent"}` }),
    });
    await once();
    await once();
    const done = await getTask(byLabel);
    expect(done.status).toBe('review'); // done gate of the sandbox board
    expect(readStatus(done.fields).conditions.find((c) => c.type === 'Blocked')?.reason).toBe('DoneAwaitingApproval');
    expect(done.fields.mc_output_summary).toBe('report sent');
    expect((await comments(byLabel)).filter((c) => c.includes('TASK_UPDATE from session'))).toHaveLength(2);
  });
});
