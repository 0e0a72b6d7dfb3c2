import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalsReconciler } from '../../reconcilers/approvals/index.js';
import { deliveryReconciler } from '../../reconcilers/delivery/index.js';
import { DiscordClient } from '../../src/clients/discord/client.js';
import { MissionControlClient } from '../../src/clients/mission-control/client.js';
import { defaultPlannerSettings, readStatus, type TaskReconciler, type TaskSnapshot } from '../../src/model/index.js';
import { makeDiscordPostHandler } from '../../src/runtime/effects/discord-post.js';
import type { EffectHandler } from '../../src/runtime/effects/types.js';
import { Executor, type Handlers } from '../../src/runtime/executor.js';
import { GlobalStateFile } from '../../src/runtime/global-state.js';
import { BoardStore } from '../../src/runtime/store.js';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import { control } from '../../src/sandbox/testing/client.js';
import { EffectsDoor } from '../../src/runtime/effects/door.js';

/**
 * Planners, the runtime's executor, the discord.post handler and both clients against the sandbox
 * (Mission Control + Discord fake): the legacy S3/S6/S8 scenarios with real assertions, and a crash
 * between the post and the mark.
 */

const logger = pino({ level: 'silent' });
let sandbox: SandboxHandle;
let mc: MissionControlClient;
let store: BoardStore;
let stateDir: string;
let boardId: string;
let handler: EffectHandler<any>;
let firstRunAt: number;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  boardId = sandbox.info.boardId;
  mc = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, logger });
  await mc.createFieldDefinition({ fieldKey: 'mc_conditions', fieldType: 'json', uiVisibility: 'if_set', boardIds: [boardId] });
  store = new BoardStore(mc, logger);
  stateDir = mkdtempSync(join(tmpdir(), 'mc-discord-it-'));
  const discord = new DiscordClient({ token: sandbox.info.discordBotToken, apiUrl: sandbox.info.discordApiUrl, postDeadlineMs: 5_000 });
  handler = makeDiscordPostHandler({ client: discord, channels: { default: sandbox.info.discordChannelId } });
  firstRunAt = Date.now() - 1_000;
});
afterAll(async () => {
  await sandbox.close();
  rmSync(stateDir, { recursive: true, force: true });
});

function executor(handlers: Handlers = { 'discord.post': handler }): Executor {
  return new Executor({ mc, store, handlers, globalState: new GlobalStateFile(stateDir, EffectsDoor.open()), logger });
}

/** One reconcile of one task, the way the runtime does it: refresh, wants(), plan, apply. */
async function pass(reconciler: TaskReconciler, taskId: string, opts: { now?: number; handlers?: Handlers } = {}) {
  await store.refresh(boardId);
  const s = store.state(boardId);
  const task = s.tasks.get(taskId)!;
  const now = opts.now ?? Date.now();
  const base: Omit<TaskSnapshot, 'comments'> = {
    now,
    settings: { ...defaultPlannerSettings(), publicUrl: 'http://mc.local' },
    board: s.board,
    boardId,
    task,
    status: readStatus(task.fields),
    approvals: store.approvalsOf(boardId, taskId),
    global: { degraded: false, firstRunAt: { [boardId]: firstRunAt } },
    boundFields: s.boundFields,
  };
  const wants = reconciler.wants?.(task, base.status, base);
  const comments = wants?.comments ? (await mc.listComments(boardId, taskId)).items : undefined;
  const { actions } = reconciler.plan({ ...base, ...(comments ? { comments } : {}) });
  const entries = await executor(opts.handlers).apply(actions, { task, boundFields: s.boundFields }, now);
  return { actions, entries };
}

const messages = async () =>
  (await control(sandbox.info, 'GET', `/discord/messages?channel=${sandbox.info.discordChannelId}`)).body.messages as {
    id: string;
    content: string;
    embeds: { description?: string }[];
  }[];
const taskNow = async (id: string) => (await mc.listTasks(boardId)).items.find((t) => t.id === id)!;
const commentsOf = async (id: string) => (await mc.listComments(boardId, id)).items.map((c) => c.message);
const doneTask = (title: string, fields: Record<string, unknown> = {}, description: string | null = null) =>
  mc.createTask(boardId, { title, description, status: 'done', customFieldValues: { mc_progress: 100, ...fields } });

describe('delivery through the executor to the Discord fake', () => {
  it('S6: delivers mc_output_summary as Resultado, once; @everyone pings nobody', async () => {
    const t = await doneTask('S6 prefers output summary', { mc_output_summary: 'OK: output summary used @everyone' });
    const { entries } = await pass(deliveryReconciler, t.id);
    expect(entries.map((e) => e.outcome)).toEqual(['applied']);

    const posted = (await messages()).filter((m) => m.content.includes(`Task ID: ${t.id}`));
    expect(posted).toHaveLength(1);
    expect(posted[0]!.content).toContain('Resultado: OK: output summary used @\u200beveryone');
    expect(posted[0]!.content).not.toMatch(/@everyone/);

    const after = await taskNow(t.id);
    expect(after.fields['mc_delivered']).toBe(true);
    const status = readStatus(after.fields);
    expect(status.conditions.find((c) => c.type === 'Delivered')?.status).toBe('True');
    // the post's own entry, and the mark of the delivery comment that the same PATCH wrote
    const ledger = Object.entries(status.ledger);
    expect(ledger.filter(([k]) => !k.startsWith('ref:')).map(([, v]) => v)).toEqual([expect.objectContaining({ s: 'done', ext: posted[0]!.id })]);
    expect(ledger.filter(([k]) => k.startsWith('ref:'))).toHaveLength(1);
    expect((await commentsOf(t.id)).filter((c) => c.startsWith('[mc-controller] delivery'))).toHaveLength(1);

    const again = await pass(deliveryReconciler, t.id);
    expect(again.actions).toEqual([]);
    expect((await messages()).filter((m) => m.content.includes(`Task ID: ${t.id}`))).toHaveLength(1);
  });

  it('S3: falls back to the newest summary= comment line', async () => {
    const t = await doneTask('S3 comment summary', {}, 'the description');
    await mc.createComment(boardId, t.id, '[TASK_UPDATE] taskId=x\nstatus=done\nsummary=from the comment');
    await pass(deliveryReconciler, t.id);
    const posted = (await messages()).find((m) => m.content.includes(`Task ID: ${t.id}`));
    expect(posted?.content).toContain('Resultado: from the comment');
  });

  it('delivers a 3000-character summary without a 400', async () => {
    const summary = `${'r'.repeat(2990)}0123456789`;
    const t = await doneTask('long result', { mc_output_summary: summary });
    const { entries } = await pass(deliveryReconciler, t.id);
    expect(entries[0]?.outcome).toBe('applied');
    const posted = (await messages()).find((m) => m.content.includes(`Task ID: ${t.id}`))!;
    expect(posted.content.length).toBeLessThanOrEqual(2000);
    expect(posted.embeds[0]?.description?.endsWith('0123456789')).toBe(true);
  });

  it.each([
    ['within the nonce window (Discord dedupes the nonce)', 0],
    ['after the nonce window (the ref line is found)', 10 * 60_000],
  ])('a crash between post and mark, %s: one visible message, task delivered', async (_, age) => {
    const t = await doneTask(`crash ${age}`, { mc_output_summary: 'crash result' });
    const crashing: Handlers = {
      'discord.post': async (action, ctx) => {
        await handler(action, ctx);
        throw new Error('process killed after the post');
      },
    };
    await expect(pass(deliveryReconciler, t.id, { handlers: crashing, now: Date.now() - age })).rejects.toThrow(/killed/);
    const pendingTask = await taskNow(t.id);
    expect(pendingTask.fields['mc_delivered']).toBe(false);
    expect(Object.values(readStatus(pendingTask.fields).ledger)[0]?.s).toBe('pending');

    const before = (await messages()).filter((m) => m.content.includes(`Task ID: ${t.id}`));
    expect(before).toHaveLength(1);

    await pass(deliveryReconciler, t.id);
    const after = (await messages()).filter((m) => m.content.includes(`Task ID: ${t.id}`));
    expect(after.map((m) => m.id)).toEqual([before[0]!.id]);
    const done = await taskNow(t.id);
    expect(done.fields['mc_delivered']).toBe(true);
    expect(Object.values(readStatus(done.fields).ledger)[0]).toMatchObject({ s: 'done', ext: before[0]!.id });
  });
});

describe('approval notices through the executor to the Discord fake', () => {
  it('S8: announces a pending approval once, follows up its resolution, then announces a second one', async () => {
    const t = await mc.createTask(boardId, { title: 'S8 needs approval', status: 'review' });
    const first = await mc.createApproval(boardId, {
      actionType: 'manual_override',
      confidence: 80,
      taskId: t.id,
      leadReasoning: 'teste approval [click](http://evil.example)',
    });
    await pass(approvalsReconciler, t.id);
    const notice = (await messages()).filter((m) => m.content.includes(`Approval ID: ${first.id}`));
    expect(notice).toHaveLength(1);
    expect(notice[0]!.content).toContain('🔔 Approval pendente no Mission Control');
    expect(notice[0]!.content).toContain('Motivo: teste approval \\[click](http://evil.example)');
    expect(notice[0]!.content).toContain(`Link: http://mc.local/boards/${boardId}?task=${t.id}`);
    expect((await taskNow(t.id)).fields['mc_approval_notified']).toBe(true);

    expect((await pass(approvalsReconciler, t.id)).actions).toEqual([]);

    await mc.updateApproval(boardId, first.id, 'approved');
    await pass(approvalsReconciler, t.id);
    const followUps = (await messages()).filter((m) => m.content.startsWith(`✅ Approval ${first.id} approved`));
    expect(followUps).toHaveLength(1);
    expect((await pass(approvalsReconciler, t.id)).actions).toEqual([]);

    const second = await mc.createApproval(boardId, { actionType: 'manual_override', confidence: 70, taskId: t.id, leadReasoning: 'again' });
    await pass(approvalsReconciler, t.id);
    const secondNotice = (await messages()).filter((m) => m.content.includes(`Approval ID: ${second.id}`));
    expect(secondNotice).toHaveLength(1);
  });
});
