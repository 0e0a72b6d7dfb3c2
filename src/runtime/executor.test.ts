import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MissionControlClient } from '../clients/mission-control/index.js';
import { idempotencyKey, taskKey, type Action, type DiscordPostAction, type TaskChange, type TaskPatchAction } from '../model/index.js';
import { startSandbox, type SandboxHandle } from '../sandbox/index.js';
import { control, mcClient } from '../sandbox/testing/client.js';
import type { EffectContext, EffectOutcome } from './effects/types.js';
import { ExecutionError, Executor, refOf, type Handlers, type TaskContext } from './executor.js';
import { GlobalStateFile } from './global-state.js';
import { BoardStore } from './store.js';
import { EffectsDoor } from './effects/door.js';
import { makeKitResourceMirror } from './effects/kit-resource-state.js';

/**
 * The executor against the real Mission Control client and the contract-faithful sandbox. Assertions read
 * the board over HTTP (tasks list, comments list, the sandbox's request counters), never our own calls.
 */

let sandbox: SandboxHandle;
let dispatcher: Agent;
let mc: MissionControlClient;
let http: ReturnType<typeof mcClient>;
let boardId: string;
let stateDir: string;
let logLines: { level: number; msg: string; field?: string }[];
let logger: pino.Logger;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  boardId = sandbox.info.boardId;
  dispatcher = new Agent();
  mc = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, dispatcher, timeoutMs: 5_000, retries: 0 });
  http = mcClient(sandbox.info);
  // the demo seed has the kit's fields but not mc_conditions: create it like bootstrap would
  await mc.createFieldDefinition({ fieldKey: 'mc_conditions', label: 'mc_conditions', fieldType: 'json', uiVisibility: 'if_set', required: false, defaultValue: null, boardIds: [boardId] });
  stateDir = mkdtempSync(join(tmpdir(), 'mc-executor-'));
});

afterAll(async () => {
  await dispatcher?.close();
  await sandbox?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

beforeEach(() => {
  logLines = [];
  logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
});

function executor(handlers: Handlers = {}) {
  const store = new BoardStore(mc, logger);
  const globalState = new GlobalStateFile(stateDir, EffectsDoor.open());
  return { store, globalState, exec: new Executor({ mc, store, handlers, globalState, logger }) };
}

/** A fresh in_progress task per test, read back through the store like the controller would. */
async function freshTask(store: BoardStore, title: string): Promise<TaskContext> {
  const created = await http.createTask({ title, description: 'executor test', status: 'in_progress', custom_field_values: { mc_progress: 10 } });
  expect(created.status).toBe(200);
  return contextOf(store, created.body.id as string);
}

async function contextOf(store: BoardStore, taskId: string): Promise<TaskContext> {
  await store.refresh(boardId);
  const s = store.state(boardId);
  const task = s.tasks.get(taskId);
  if (!task) throw new Error(`task ${taskId} not listed`);
  return { task, boundFields: s.boundFields };
}

async function boardTask(taskId: string): Promise<any> {
  const row = (await http.allTasks()).find((t) => t.id === taskId);
  if (!row) throw new Error(`task ${taskId} not on the board`);
  return row;
}

async function comments(taskId: string): Promise<string[]> {
  const r = await http.get(`${http.board}/tasks/${taskId}/comments?limit=200`);
  expect(r.status).toBe(200);
  return (r.body.items as { message: string }[]).map((c) => c.message);
}

async function writes(): Promise<number> {
  return (await control(sandbox.info, 'GET', '/stats')).body.mc.writes as number;
}

function patch(ctx: TaskContext, change: TaskChange, name = 'p1'): TaskPatchAction {
  return {
    type: 'task.patch',
    key: taskKey(boardId, ctx.task.id),
    reconciler: 'test',
    reason: `test ${name}`,
    idempotencyKey: idempotencyKey(ctx.task.id, name),
    boardId,
    taskId: ctx.task.id,
    change,
  };
}

function post(ctx: TaskContext, after: TaskChange | undefined, name = 'post1'): DiscordPostAction {
  return {
    type: 'discord.post',
    key: taskKey(boardId, ctx.task.id),
    reconciler: 'delivery',
    reason: 'deliver the result',
    idempotencyKey: idempotencyKey(ctx.task.id, name),
    purpose: 'delivery',
    content: 'Result: all good',
    task: { boardId, taskId: ctx.task.id },
    ...(after ? { after } : {}),
  };
}

const NOW = Date.UTC(2024, 4, 1, 10, 0, 0);

describe('Executor.apply: task.patch', () => {
  it('writes status, fields, comment and conditions in one PATCH', async () => {
    const { exec, store } = executor();
    const ctx = await freshTask(store, 'one patch');
    const action = patch(ctx, {
      status: 'review',
      fields: { mc_progress: 70, mc_output_summary: 'half done' },
      comment: 'moved to review',
      conditions: [{ type: 'Stalled', status: 'True', reason: 'NoActivity', message: 'idle 61m' }],
    });
    const before = await writes();
    const entries = await exec.apply([action], ctx, NOW);
    expect(await writes()).toBe(before + 1);
    expect(entries).toMatchObject([{ action: 'task.patch', outcome: 'applied', idempotencyKey: action.idempotencyKey }]);

    const row = await boardTask(ctx.task.id);
    expect(row.status).toBe('review');
    expect(row.custom_field_values).toMatchObject({ mc_progress: 70, mc_output_summary: 'half done' });
    const status = row.custom_field_values.mc_conditions;
    expect(status.conditions.map((c: any) => [c.type, c.status, c.reason])).toEqual([
      ['Stalled', 'True', 'NoActivity'],
      ['Ready', 'False', 'NoActivity'],
    ]);
    expect(status.observedHash).toMatch(/^[0-9a-f]{16}$/);
    const texts = await comments(ctx.task.id);
    expect(texts).toHaveLength(1);
    expect(texts[0]).toContain('moved to review');
    expect(texts[0]).toContain(refOf(action.idempotencyKey));
    // the store and the context carry the PATCH response
    expect(ctx.task.status).toBe('review');
    expect(store.state(boardId).tasks.get(ctx.task.id)?.fields['mc_progress']).toBe(70);
  });

  it('a second apply of the same actions changes nothing on the board', async () => {
    const { exec, store } = executor();
    const ctx = await freshTask(store, 'second pass');
    const actions: Action[] = [
      patch(ctx, { fields: { mc_progress: 55 }, comment: 'progress noted', conditions: [{ type: 'SessionLinked', status: 'True', reason: 'Linked' }] }),
      patch(ctx, { fields: { mc_risk_profile: 'high' }, ledger: { note1: { s: 'done', at: NOW } } }, 'p2'),
    ];
    await exec.apply(actions, ctx, NOW);
    const first = await boardTask(ctx.task.id);
    const commentsBefore = await comments(ctx.task.id);
    expect(commentsBefore).toHaveLength(1);

    // next pass: a fresh read, later clock, same plan
    const { exec: exec2, store: store2 } = executor();
    const ctx2 = await contextOf(store2, ctx.task.id);
    const before = await writes();
    const entries = await exec2.apply(actions, ctx2, NOW + 60_000);
    expect(entries.map((e) => e.outcome)).toEqual(['skipped', 'skipped']);
    expect(await writes()).toBe(before);
    const second = await boardTask(ctx.task.id);
    expect(second.updated_at).toBe(first.updated_at);
    expect(second.custom_field_values).toEqual(first.custom_field_values);
    expect(await comments(ctx.task.id)).toEqual(commentsBefore);
  });

  it('a write whose answer was lost is not repeated: the comment is looked for before it goes out again', async () => {
    const { exec, store } = executor();
    const ctx = await freshTask(store, 'comment ref');
    const action = patch(ctx, { fields: { mc_progress: 20 }, comment: 'this comment landed, its answer was lost' });
    // Mission Control applies the PATCH, then resets the connection instead of answering
    expect((await control(sandbox.info, 'PUT', '/faults', { mc: { errorRate: 1, kinds: ['reset-after-commit'] } })).status).toBe(200);
    await expect(exec.apply([action], ctx, NOW)).rejects.toBeInstanceOf(ExecutionError);
    await control(sandbox.info, 'PUT', '/faults', {});
    expect(await comments(ctx.task.id)).toHaveLength(1);
    // the same executor retries with the row it had (the stale one): the comment is found and left out, the
    // fields are written again (the same values: harmless)
    const entries = await exec.apply([action], ctx, NOW);
    expect(entries[0]?.outcome).toBe('applied');
    expect(await comments(ctx.task.id)).toHaveLength(1);
    // a fresh process reads the row, whose ledger carries the comment's mark: nothing to write either
    const { exec: fresh, store: freshStore } = executor();
    const again = await fresh.apply([action], await contextOf(freshStore, ctx.task.id), NOW + 60_000);
    expect(again.map((e) => e.outcome)).toEqual(['skipped']);
    expect(await comments(ctx.task.id)).toHaveLength(1);
  });

  it('a comment is written without reading the task\'s comments first when the row can tell', async () => {
    const { exec, store } = executor();
    const ctx = await freshTask(store, 'no comment read');
    const before = (await control(sandbox.info, 'GET', '/stats')).body.mc;
    await exec.apply([patch(ctx, { fields: { mc_progress: 30 }, comment: 'progress noted' })], ctx, NOW);
    const after = (await control(sandbox.info, 'GET', '/stats')).body.mc;
    expect(after.writes - before.writes).toBe(1);
    expect(after.requests - before.requests).toBe(1);
    expect(await comments(ctx.task.id)).toHaveLength(1);
  });

  it('drops fields not bound to the board with one warning instead of a 422', async () => {
    const { exec, store } = executor();
    const ctx = await freshTask(store, 'unbound field');
    const changes = { fields: { mc_progress: 33, mc_not_bound_here: 'x' } };
    const entries = await exec.apply([patch(ctx, changes)], ctx, NOW);
    expect(entries[0]?.outcome).toBe('applied');
    const row = await boardTask(ctx.task.id);
    expect(row.custom_field_values.mc_progress).toBe(33);
    expect(row.custom_field_values).not.toHaveProperty('mc_not_bound_here');
    const warnings = logLines.filter((l) => l.level === 40 && l.field === 'mc_not_bound_here');
    expect(warnings).toHaveLength(1);
    // warned once per board and field
    await exec.apply([patch(ctx, { fields: { mc_progress: 34, mc_not_bound_here: 'y' } }, 'p2')], ctx, NOW);
    expect(logLines.filter((l) => l.level === 40 && l.field === 'mc_not_bound_here')).toHaveLength(1);
  });

  it('keeps the other changes when the done gate refuses the status, and records refused:done', async () => {
    const { exec, store } = executor();
    const board = await http.get(http.board);
    expect(board.body.require_approval_for_done).toBe(true);
    const ctx = await freshTask(store, 'done gate');
    const action = patch(ctx, { status: 'done', fields: { mc_progress: 100 }, comment: 'finished' });
    const entries = await exec.apply([action], ctx, NOW);
    expect(entries[0]?.outcome).toBe('applied');
    const row = await boardTask(ctx.task.id);
    expect(row.status).toBe('in_progress');
    expect(row.custom_field_values.mc_progress).toBe(100);
    expect(row.custom_field_values.mc_conditions.ledger['refused:done']).toMatchObject({ s: 'failed', ext: 'board requires an approved approval for done' });
    const texts = await comments(ctx.task.id);
    expect(texts.filter((t) => t.includes('finished'))).toHaveLength(1);
    expect(logLines.some((l) => l.level === 40 && /refused status done/.test(l.msg))).toBe(true);
  });

  // Issue 12 item 1: the caller plans again after a refusal, so the planners' comment must not go out
  // with the status it no longer describes ("status done → done").
  it('when the key is planned again after a refusal, writes only the refusal and reports the rule', async () => {
    const { exec, store } = executor();
    const ctx = await freshTask(store, 'done gate, planned again');
    const action = patch(ctx, { status: 'done', fields: { mc_progress: 100 }, comment: 'status done → done' });
    const entries = await exec.apply([action], ctx, NOW, { replanOnRefusal: true });
    expect(entries[0]).toMatchObject({ outcome: 'deferred', refused: 'board requires an approved approval for done' });
    const row = await boardTask(ctx.task.id);
    expect(row.status).toBe('in_progress');
    expect(row.custom_field_values.mc_progress).not.toBe(100);
    expect(row.custom_field_values.mc_conditions.ledger['refused:done']).toMatchObject({ s: 'failed', ext: 'board requires an approved approval for done' });
    expect((await comments(ctx.task.id)).filter((t) => t.includes('done → done'))).toEqual([]);
    expect(ctx.task.fields.mc_conditions).toEqual(row.custom_field_values.mc_conditions);
  });

  it('fails a task change outside a task key without calling Mission Control', async () => {
    const { exec, store } = executor();
    const ctx = await freshTask(store, 'no ctx');
    const before = await writes();
    await expect(exec.apply([patch(ctx, { fields: { mc_progress: 1 } })], null, NOW)).rejects.toBeInstanceOf(ExecutionError);
    expect(await writes()).toBe(before);
  });

  it('rejects an invalid action without applying it', async () => {
    const { exec, store } = executor();
    const ctx = await freshTask(store, 'invalid');
    const bad = { ...patch(ctx, { fields: { mc_progress: 5 } }), reason: '' };
    const err = await exec.apply([bad], ctx, NOW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutionError);
    expect((err as ExecutionError).entries[0]).toMatchObject({ outcome: 'failed' });
    expect((await boardTask(ctx.task.id)).custom_field_values.mc_progress).toBe(10);
  });
});

describe('Executor.apply: discord.post', () => {
  it('records the pending intent on the task before the handler runs, then done with the external id', async () => {
    const { store } = executor();
    const ctx = await freshTask(store, 'delivery');
    const calls: { action: DiscordPostAction; ctx: EffectContext; ledgerDuringCall: any }[] = [];
    const action = post(ctx, { fields: { mc_delivered: true, mc_output_summary: 'all good' } });
    const handlers: Handlers = {
      'discord.post': async (a, c): Promise<EffectOutcome> => {
        const row = await boardTask(a.task!.taskId);
        calls.push({ action: a, ctx: c, ledgerDuringCall: row.custom_field_values.mc_conditions?.ledger?.[a.idempotencyKey] });
        return { outcome: 'applied', externalId: 'm1' };
      },
    };
    const e2 = new Executor({ mc, store, handlers, globalState: new GlobalStateFile(stateDir, EffectsDoor.open()), logger });
    const entries = await e2.apply([action], ctx, NOW);
    expect(entries).toMatchObject([{ action: 'discord.post', outcome: 'applied' }]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.ledgerDuringCall).toEqual({ s: 'pending', at: NOW });
    expect(calls[0]!.ctx.priorIntent).toBeUndefined();
    const row = await boardTask(ctx.task.id);
    expect(row.custom_field_values.mc_conditions.ledger[action.idempotencyKey]).toEqual({ s: 'done', at: NOW, ext: 'm1' });
    expect(row.custom_field_values).toMatchObject({ mc_delivered: true, mc_output_summary: 'all good' });

  });

  // Regression (executor.ts apply, the discord.post loop): when post() skips because the ledger already says
  // `done`, apply still pushes `{ledger: {[key]: {s:'done', at: now}}}` (no ext) into the task write, so
  // every later pass that re-plans the post rewrites mc_conditions with a new `at` and erases the
  // recorded Discord message id: one write per pass instead of zero.
  it('a later pass with the same plan neither posts again nor writes, and keeps the external id', async () => {
    const { store } = executor();
    const ctx = await freshTask(store, 'delivery twice');
    const action = post(ctx, { fields: { mc_delivered: true } }, 'post-twice');
    let calls = 0;
    const handlers: Handlers = { 'discord.post': async () => (calls++, { outcome: 'applied', externalId: 'm1' }) };
    await new Executor({ mc, store, handlers, globalState: new GlobalStateFile(stateDir, EffectsDoor.open()), logger }).apply([action], ctx, NOW);
    const first = await boardTask(ctx.task.id);

    const { store: store2 } = executor();
    const ctx2 = await contextOf(store2, ctx.task.id);
    const before = await writes();
    const again = await new Executor({ mc, store: store2, handlers, globalState: new GlobalStateFile(stateDir, EffectsDoor.open()), logger }).apply([action], ctx2, NOW + 60_000);
    expect(again[0]?.outcome).toBe('skipped');
    expect(calls).toBe(1);
    const second = await boardTask(ctx.task.id);
    expect(second.custom_field_values.mc_conditions.ledger[action.idempotencyKey]).toEqual({ s: 'done', at: NOW, ext: 'm1' });
    expect(await writes()).toBe(before);
    expect(second.updated_at).toBe(first.updated_at);
  });

  it.each<[string, () => Promise<EffectOutcome>]>([
    ['throws', async () => {
      throw new Error('discord down');
    }],
    ['returns failed', async () => ({ outcome: 'failed', detail: 'discord said 500' })],
  ])('a handler that %s leaves the intent pending and apply throws ExecutionError', async (_name, outcome) => {
    const { store } = executor();
    const ctx = await freshTask(store, 'delivery fails');
    const action = post(ctx, { fields: { mc_delivered: true } }, 'post-fail');
    let calls = 0;
    const failing = new Executor({
      mc,
      store,
      handlers: { 'discord.post': () => (calls++, outcome()) },
      globalState: new GlobalStateFile(stateDir, EffectsDoor.open()),
      logger,
    });
    const err = await failing.apply([action], ctx, NOW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecutionError);
    expect((err as ExecutionError).entries).toMatchObject([{ action: 'discord.post', outcome: 'failed' }]);
    expect(calls).toBe(1);
    let row = await boardTask(ctx.task.id);
    expect(row.custom_field_values.mc_conditions.ledger[action.idempotencyKey]).toEqual({ s: 'pending', at: NOW });
    expect(row.custom_field_values.mc_delivered).toBe(false);

    // the retry hands the handler the earlier intent, and completes the ledger
    const seen: EffectContext[] = [];
    const { store: store2 } = executor();
    const ctx2 = await contextOf(store2, ctx.task.id);
    const ok = new Executor({
      mc,
      store: store2,
      handlers: { 'discord.post': async (_a, c) => (seen.push(c), { outcome: 'applied', externalId: 'm2' }) },
      globalState: new GlobalStateFile(stateDir, EffectsDoor.open()),
      logger,
    });
    await ok.apply([action], ctx2, NOW + 1_000);
    expect(seen[0]?.priorIntent).toEqual({ s: 'pending', at: NOW });
    row = await boardTask(ctx.task.id);
    expect(row.custom_field_values.mc_conditions.ledger[action.idempotencyKey]).toEqual({ s: 'done', at: NOW + 1_000, ext: 'm2' });
    expect(row.custom_field_values.mc_delivered).toBe(true);
  });

  it('without a handler (Discord not configured) the post is skipped and nothing is recorded', async () => {
    const { exec, store } = executor();
    const ctx = await freshTask(store, 'no handler');
    const action = post(ctx, undefined, 'post-none');
    const [entry] = await exec.apply([action], ctx, NOW);
    expect(entry).toMatchObject({ outcome: 'skipped', detail: expect.stringMatching(/not configured/) });
    const row = await boardTask(ctx.task.id);
    expect(row.custom_field_values.mc_conditions?.ledger?.[action.idempotencyKey]).toBeUndefined();
  });

  it('a task-less post keeps its ledger in the global state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-executor-global-'));
    try {
      const { store } = executor();
      const globalState = new GlobalStateFile(dir, EffectsDoor.open());
      const seen: unknown[] = [];
      const e = new Executor({
        mc,
        store,
        handlers: {
          'discord.post': async (a) => {
            seen.push(new GlobalStateFile(dir, EffectsDoor.open()).get().ledger[a.idempotencyKey]);
            return { outcome: 'applied', externalId: 'g1' };
          },
        },
        globalState,
        logger,
      });
      const action: DiscordPostAction = {
        type: 'discord.post',
        key: 'global/resource',
        reconciler: 'degrade',
        reason: 'memory pressure',
        idempotencyKey: 'global-post-1',
        purpose: 'resource',
        content: 'degraded',
      };
      await e.apply([action], null, NOW);
      expect(seen).toEqual([{ s: 'pending', at: NOW }]);
      expect(new GlobalStateFile(dir, EffectsDoor.open()).get().ledger['global-post-1']).toEqual({ s: 'done', at: NOW, ext: 'g1' });
      const again = await e.apply([action], null, NOW + 1);
      expect(again[0]?.outcome).toBe('skipped');
      expect(seen).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Executor state.write', () => {
  it('merges the patch into the global state, then the kit mirror copies a resource patch to its file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-executor-state-'));
    try {
      const kitFile = join(dir, 'kit', 'resource-state.json');
      const globalState = new GlobalStateFile(dir, EffectsDoor.open());
      const e = new Executor({
        mc,
        store: new BoardStore(mc, logger),
        handlers: { 'state.write': makeKitResourceMirror({ door: EffectsDoor.open(), path: kitFile }) },
        globalState,
        logger,
      });
      const write = (name: string, patch: Record<string, unknown>): Action => ({ type: 'state.write', key: 'global/degrade', reconciler: 'degrade', reason: name, idempotencyKey: name, patch });
      const resource = { mode: 'degrade', entered_at_ms: NOW };
      const [entry] = await e.apply([write('enter', { degraded: true, resource })], null, NOW);
      expect(entry?.outcome).toBe('applied');
      expect(new GlobalStateFile(dir, EffectsDoor.open()).get()).toMatchObject({ degraded: true, resource });
      expect(JSON.parse(readFileSync(kitFile, 'utf8'))).toEqual(resource);
      // a patch without `resource` leaves the kit's file as it was
      await e.apply([write('other', { degraded: false })], null, NOW + 1);
      expect(JSON.parse(readFileSync(kitFile, 'utf8'))).toEqual(resource);
      expect(new GlobalStateFile(dir, EffectsDoor.open()).get().degraded).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Executor.describe', () => {
  it('summarises without writing anything', async () => {
    const { exec, store } = executor();
    const ctx = await freshTask(store, 'describe');
    const before = await writes();
    const entries = exec.describe(
      [
        patch(ctx, { status: 'review', fields: { mc_progress: 90 }, comment: 'line one\nline two' }),
        post(ctx, { fields: { mc_delivered: true } }),
        { type: 'state.write', key: 'global/x', reconciler: 'r', reason: 'why', idempotencyKey: 'k', patch: { degraded: true } },
        { type: 'k8s.scale', key: 'global/d', reconciler: 'degrade', reason: 'why', idempotencyKey: 'k2', kind: 'Deployment', namespace: 'ns', name: 'web', replicas: 0, restore: false },
        { type: 'process.kill', key: 'global/k', reconciler: 'degrade', reason: 'why', idempotencyKey: 'k3', targets: [{ pid: 42, command: 'node worker.js' }], graceMs: 1000 },
      ],
      ctx,
      NOW,
    );
    expect(await writes()).toBe(before);
    expect(entries.map((e) => e.action)).toEqual(['task.patch', 'discord.post', 'state.write', 'k8s.scale', 'process.kill']);
    expect(entries[0]!.summary).toContain('mc_progress: 10 → 90');
    expect(entries[0]!.summary).toContain('status: "in_progress" → "review"');
    expect(entries[0]!.summary).toContain('comment "line one"');
    expect(entries[0]!.diff?.map((d) => d.field)).toEqual(['mc_progress', 'status']);
    expect(entries[1]!.summary).toContain('delivery');
    expect(entries[1]!.diff?.map((d) => d.field)).toEqual(['mc_delivered']);
    expect(entries[2]!.summary).toContain('degraded');
    expect(entries[3]!.summary).toBe('scale Deployment ns/web to 0');
    expect(entries[4]!.summary).toContain('42 (node worker.js)');
  });
});
