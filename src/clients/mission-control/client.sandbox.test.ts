import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../../sandbox/index.js';
import type { ApprovalStreamEvent, TaskStreamEvent } from './api.js';
import { MissionControlClient } from './client.js';
import { MissionControlError } from './errors.js';

/** The real client against the contract-faithful sandbox on random local ports. */

let sandbox: SandboxHandle;
let dispatcher: Agent;
let mc: MissionControlClient;
let boardId: string;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'demo', streams: { pollMs: 100, pingMs: 1_000 } });
  dispatcher = new Agent();
  boardId = sandbox.info.boardId;
  mc = new MissionControlClient({
    apiUrl: sandbox.info.mcApiUrl,
    token: sandbox.info.mcAuthToken,
    dispatcher,
    timeoutMs: 5_000,
    stream: { backoff: { baseMs: 100, capMs: 500 } },
  });
});

afterAll(async () => {
  await dispatcher?.close();
  await sandbox?.close();
});

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const errorOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as MissionControlError);

describe('MissionControlClient against the sandbox', () => {
  it('reads the board and lists every task without rejected rows', async () => {
    const board = await mc.getBoard(boardId);
    expect(board.id).toBe(boardId);
    expect(board.requireApprovalForDone).toBe(true);
    expect((await mc.listBoards()).map((b) => b.id)).toContain(boardId);
    const listed = await mc.listTasks(boardId);
    expect(listed.rejected).toEqual([]);
    expect(listed.items.length).toBeGreaterThan(0);
    for (const t of listed.items) {
      expect(t.boardId).toBe(boardId);
      expect(Number.isFinite(t.createdAt)).toBe(true);
      expect(Math.abs(t.createdAt - Date.now())).toBeLessThan(7 * 24 * 3_600_000);
    }
  });

  it('pages beyond 200 tasks and filters by status', async () => {
    const before = (await mc.listTasks(boardId)).items.length;
    for (let i = 0; i < 205; i++) await mc.createTask(boardId, { title: `bulk ${i}` });
    const all = await mc.listTasks(boardId);
    expect(all.items).toHaveLength(before + 205);
    expect(all.requests).toBeGreaterThanOrEqual(2);
    const review = await mc.listTasks(boardId, { statuses: ['review', 'done'] });
    expect(review.items.every((t) => t.status === 'review' || t.status === 'done')).toBe(true);
  });

  it('creates and patches a task with custom fields and a comment', async () => {
    const fields = await mc.listFieldDefinitions();
    const intField = fields.find((f) => f.fieldType === 'integer' && f.boardIds.includes(boardId));
    let key = intField?.fieldKey;
    if (!key) {
      const created = await mc.createFieldDefinition({ fieldKey: 'h2_counter', fieldType: 'integer', defaultValue: 0, boardIds: [boardId] });
      key = created.fieldKey;
    }
    const task = await mc.createTask(boardId, { title: 'client test', description: 'from the client test' });
    expect(task.status).toBe('inbox');
    const patched = await mc.updateTask(boardId, task.id, { status: 'in_progress', customFieldValues: { [key]: 3 }, comment: 'started' });
    expect(patched.status).toBe('in_progress');
    expect(patched.fields[key]).toBe(3);
    expect(patched.inProgressAt).not.toBeNull();
    await mc.createComment(boardId, task.id, 'second note');
    const comments = await mc.listComments(boardId, task.id);
    expect(comments.items.map((c) => c.message)).toEqual(['started', 'second note']);
    expect(comments.items.every((c) => c.taskId === task.id)).toBe(true);

    const unknown = await errorOf(mc.updateTask(boardId, task.id, { customFieldValues: { mc_loop_id: 'x' } }));
    expect(unknown?.kind).toBe('validation');
    expect(unknown?.message).toContain('mc_loop_id');
  });

  it('creates, binds and patches a custom-field definition', async () => {
    const created = await mc.createFieldDefinition({
      fieldKey: 'h2_flag',
      fieldType: 'boolean',
      uiVisibility: 'if_set',
      defaultValue: false,
      boardIds: [boardId],
    });
    expect(created).toMatchObject({ fieldKey: 'h2_flag', fieldType: 'boolean', defaultValue: false, boardIds: [boardId] });
    // upstream answers a duplicate key with the unique-constraint error, a bare 500 (recorded), not its intended 409
    const again = await errorOf(mc.createFieldDefinition({ fieldKey: 'h2_flag', fieldType: 'boolean', boardIds: [boardId] }));
    expect(again).toMatchObject({ kind: 'server', status: 500 });
    const patched = await mc.updateFieldDefinition(created.id, { label: 'H2 flag', defaultValue: true });
    expect(patched).toMatchObject({ label: 'H2 flag', defaultValue: true });
    expect((await mc.listFieldDefinitions()).some((f) => f.id === created.id)).toBe(true);
  });

  it('recognises the done gate, then passes it through an approved approval', async () => {
    const task = await mc.createTask(boardId, { title: 'gated' });
    const gate = await errorOf(mc.updateTask(boardId, task.id, { status: 'done' }));
    expect(gate).toBeInstanceOf(MissionControlError);
    expect(gate?.isDoneGate()).toBe(true);
    expect(gate?.requestId).toBeTruthy();

    const approval = await mc.createApproval(boardId, { actionType: 'manual_override', confidence: 90, taskId: task.id, leadReasoning: 'done by test' });
    expect(approval).toMatchObject({ status: 'pending', taskId: task.id, payload: { reason: 'done by test' } });
    const second = await errorOf(mc.createApproval(boardId, { actionType: 'manual_override', confidence: 90, taskId: task.id, leadReasoning: 'again' }));
    expect(second?.isPendingApprovalConflict()).toBe(true);
    const pending = await mc.listApprovals(boardId, { status: 'pending' });
    expect(pending.items.some((a) => a.id === approval.id)).toBe(true);

    const resolved = await mc.updateApproval(boardId, approval.id, 'approved');
    expect(resolved.status).toBe('approved');
    expect(resolved.resolvedAt).not.toBeNull();
    expect((await mc.updateTask(boardId, task.id, { status: 'done' })).status).toBe('done');
  });

  it('gives a clear 401 for a wrong token, without the token in it', async () => {
    const wrong = 'wrong-token-wrong-token-wrong-token-wrong-token-wrong-token';
    const bad = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: wrong, dispatcher });
    const err = await errorOf(bad.listTasks(boardId));
    expect(err?.kind).toBe('unauthorized');
    expect(err?.message).toMatch(/rejected the auth token.*MC_AUTH_TOKEN/);
    expect(err?.message).not.toContain(wrong);
    expect(bad.stats.requests).toBe(1);
  });

  it('rides out injected 5xx/429 on reads by retrying, and never retries a write', async () => {
    const faults = (body: unknown) =>
      dispatcher.request({
        origin: sandbox.info.controlUrl,
        path: '/faults',
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const flaky = new MissionControlClient({
      apiUrl: sandbox.info.mcApiUrl,
      token: sandbox.info.mcAuthToken,
      dispatcher,
      retries: 10,
      backoff: { baseMs: 1, capMs: 10 },
    });
    const expected = (await mc.listTasks(boardId)).items.length;
    await (await faults({ mc: { errorRate: 0.5, kinds: ['500', '502', '503', '429'] } })).body.dump();
    try {
      for (let i = 0; i < 5; i++) expect((await flaky.listTasks(boardId)).items).toHaveLength(expected);
      expect(flaky.stats.retries).toBeGreaterThan(0);
      const before = flaky.stats;
      let failed = 0;
      for (let i = 0; i < 20; i++) {
        const err = await errorOf(flaky.createTask(boardId, { title: `under faults ${i}` }));
        if (err) failed++;
      }
      const after = flaky.stats;
      expect(after.requests - before.requests).toBe(20);
      expect(after.writes - before.writes).toBe(20);
      expect(after.retries).toBe(before.retries);
      expect(after.failures - before.failures).toBe(failed);

      await (await faults({ mc: { errorRate: 1, kinds: ['stall'], stallMs: 10_000 } })).body.dump();
      const slow = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, dispatcher, timeoutMs: 200, retries: 1 });
      const started = Date.now();
      const timeout = await errorOf(slow.getBoard(boardId));
      expect(timeout?.kind).toBe('timeout');
      expect(timeout?.attempts).toBe(2);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await (await faults({})).body.dump();
    }
  });

  it('streams deliver a created task and a created approval within a few seconds', async () => {
    const taskEvents: TaskStreamEvent[] = [];
    const approvalEvents: ApprovalStreamEvent[] = [];
    const errors: Error[] = [];
    const tasks = mc.streamTasks(boardId, { onEvent: (e) => taskEvents.push(e), onError: (e) => errors.push(e) });
    const approvals = mc.streamApprovals(boardId, { onEvent: (e) => approvalEvents.push(e), onError: (e) => errors.push(e) });
    try {
      await new Promise((r) => setTimeout(r, 300)); // let both connections open
      const task = await mc.createTask(boardId, { title: 'streamed' });
      await until(() => taskEvents.some((e) => e.type === 'task.created' && e.taskId === task.id));
      const created = taskEvents.find((e) => e.type === 'task.created' && e.taskId === task.id);
      expect(created?.type === 'task.created' && created.task?.title).toBe('streamed');

      const approval = await mc.createApproval(boardId, { actionType: 'manual_override', confidence: 50, taskId: task.id, leadReasoning: 'stream test' });
      await until(() => approvalEvents.some((e) => e.approval.id === approval.id));
      await new Promise((r) => setTimeout(r, 400)); // several server polls re-send it
      expect(approvalEvents.filter((e) => e.approval.id === approval.id)).toHaveLength(1);

      await mc.updateApproval(boardId, approval.id, 'rejected');
      await until(() => approvalEvents.some((e) => e.approval.id === approval.id && e.approval.status === 'rejected'));
      expect(errors).toEqual([]);
    } finally {
      tasks.close();
      approvals.close();
      await Promise.all([tasks.closed, approvals.closed]);
    }
  });
});
