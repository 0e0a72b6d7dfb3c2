import { describe, expect, it } from 'vitest';
import {
  CONDITIONS_FIELD,
  actionSchema,
  defaultPlannerSettings,
  emptyStatus,
  readStatus,
  type Action,
  type ControllerStatus,
  type DiscordPostAction,
  type Task,
  type TaskComment,
  type TaskPatchAction,
  type TaskSnapshot,
} from '../../src/model/index.js';
import { CONTENT_LIMIT, EMBED_DESCRIPTION_LIMIT, nonceFor, refLine } from '../../src/model/discord-text.js';
import { DELIVERED, deliveryKey, deliveryReconciler } from './index.js';
import { DELIVERY_HEADER } from './format.js';

const BOARD = 'board-1';
const FIRST_RUN = Date.parse('2026-03-01T00:00:00Z');
const NOW = FIRST_RUN + 3_600_000;
const ALL_FIELDS = new Set([CONDITIONS_FIELD, 'mc_delivered', 'mc_output_summary', 'mc_progress']);

function task(over: Partial<Task> = {}, fields: Record<string, unknown> = {}): Task {
  return {
    id: 'task-1',
    boardId: BOARD,
    title: 'Write the report',
    description: 'Describe the quarter',
    status: 'done',
    priority: 'medium',
    assignedAgentId: null,
    inProgressAt: FIRST_RUN + 1000,
    createdAt: FIRST_RUN + 500,
    updatedAt: FIRST_RUN + 60_000,
    ...over,
    fields: { mc_delivered: false, mc_progress: 100, mc_output_summary: null, ...fields },
  };
}

function snapshot(t: Task, over: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    now: NOW,
    settings: defaultPlannerSettings(),
    board: null,
    boardId: BOARD,
    task: t,
    status: readStatus(t.fields),
    approvals: [],
    global: { degraded: false, firstRunAt: { [BOARD]: FIRST_RUN } },
    boundFields: ALL_FIELDS,
    ...over,
  };
}

/** Plans like the runtime: wants() first, comments supplied only when asked for. */
function plan(t: Task, comments: TaskComment[] = [], over: Partial<TaskSnapshot> = {}) {
  const base = snapshot(t, over);
  const wants = deliveryReconciler.wants?.(t, base.status, base);
  const snap = wants?.comments ? { ...base, comments } : base;
  const result = deliveryReconciler.plan(snap);
  for (const a of result.actions) expect(actionSchema.safeParse(a).success).toBe(true);
  return { ...result, wants };
}

const posts = (actions: Action[]) => actions.filter((a): a is DiscordPostAction => a.type === 'discord.post');
const patches = (actions: Action[]) => actions.filter((a): a is TaskPatchAction => a.type === 'task.patch');

/** What the executor does to the task's fields: the ledger intent, then on success `after` plus the confirmed entry. */
function withLedger(t: Task, key: string, s: 'pending' | 'done'): Task {
  const status: ControllerStatus = readStatus(t.fields);
  return { ...t, fields: { ...t.fields, [CONDITIONS_FIELD]: { ...status, ledger: { ...status.ledger, [key]: { s, at: NOW } } } } };
}
function delivered(t: Task, post: DiscordPostAction): Task {
  const done = withLedger(t, post.idempotencyKey, 'done');
  const status = readStatus(done.fields);
  const conditions = [
    ...status.conditions.filter((c) => c.type !== DELIVERED),
    ...(post.after?.conditions ?? []).map((c) => ({ ...c, message: c.message ?? '', lastTransitionTime: new Date(NOW).toISOString() })),
  ];
  return { ...done, fields: { ...done.fields, ...post.after?.fields, [CONDITIONS_FIELD]: { ...status, conditions } } };
}
const comment = (message: string, createdAt: number): TaskComment => ({ id: `c${createdAt}`, taskId: 'task-1', message, agentId: null, createdAt });

describe('delivery planner: message', () => {
  it('posts the legacy format with mc_output_summary as Resultado', () => {
    const { actions } = plan(task({}, { mc_output_summary: 'OK: output summary used', mc_progress: 100 }));
    const [post] = posts(actions);
    expect(actions).toHaveLength(1);
    expect(post!.purpose).toBe('delivery');
    expect(post!.task).toEqual({ boardId: BOARD, taskId: 'task-1' });
    expect(post!.key).toBe(`task/${BOARD}/task-1`);
    expect(post!.content.split('\n')).toEqual([
      DELIVERY_HEADER,
      'Task: Write the report',
      'Task ID: task-1',
      'Progresso: 100%',
      'Resultado: OK: output summary used',
      refLine(post!.idempotencyKey),
    ]);
    expect(post!.embeds).toBeUndefined();
  });

  it('marks delivered, sets the condition, confirms the ledger and comments once, all after the post', () => {
    const [post] = posts(plan(task({}, { mc_output_summary: 'x' })).actions);
    expect(post!.after?.fields).toEqual({ mc_delivered: true });
    expect(post!.after?.conditions).toEqual([expect.objectContaining({ type: DELIVERED, status: 'True' })]);
    expect(post!.after?.ledger?.[post!.idempotencyKey]?.s).toBe('done');
    expect(post!.after?.comment).toMatch(/^\[mc-controller\] delivery/);
  });

  it.each([
    ['@everyone', '@everyone done'],
    ['@here', 'hey @here'],
    ['a user mention', 'thanks <@123456789012345678>'],
    ['a role mention', 'cc <@&123456789012345678>'],
  ])('neutralises %s in agent output', (_, summary) => {
    const [post] = posts(plan(task({ title: '@everyone title' }, { mc_output_summary: summary })).actions);
    expect(post!.content).not.toMatch(/@(everyone|here)|<@[!&]?\d/);
  });

  it('escapes masked links and markdown in the summary and the title', () => {
    const [post] = posts(
      plan(task({ title: '**urgent**' }, { mc_output_summary: 'see [docs](https://evil.example) and `rm -rf`' })).actions,
    );
    expect(post!.content).toContain('Task: \\*\\*urgent\\*\\*');
    expect(post!.content).toContain('Resultado: see \\[docs](https://evil.example) and \\`rm -rf\\`');
  });

  it('fits a 3000-character summary: content ≤ 2000, the rest in an embed ≤ 4096, nothing lost', () => {
    const summary = `${'a'.repeat(2990)}0123456789`;
    const [post] = posts(plan(task({}, { mc_output_summary: summary })).actions);
    expect(post!.content.length).toBeLessThanOrEqual(CONTENT_LIMIT);
    expect(post!.content).toContain('Resultado: aaa');
    expect(post!.content).toContain(refLine(post!.idempotencyKey));
    expect(post!.embeds).toHaveLength(1);
    const description = post!.embeds![0]!.description;
    expect(description.length).toBeLessThanOrEqual(EMBED_DESCRIPTION_LIMIT);
    expect(description.endsWith('0123456789')).toBe(true);
    const inContent = post!.content.split('Resultado: ')[1]!.split('…')[0]!;
    expect(inContent + description.replace(/^…/, '')).toBe(summary);
  });

  it('cuts a long title with an ellipsis', () => {
    const [post] = posts(plan(task({ title: 't'.repeat(300) }, { mc_output_summary: 'x' })).actions);
    const line = post!.content.split('\n')[1]!;
    expect(line).toBe(`Task: ${'t'.repeat(109)}…`);
  });
});

describe('delivery planner: summary fallback', () => {
  const summaryLine = (actions: Action[]) => posts(actions)[0]!.content.split('\n').find((l) => l.startsWith('Resultado:'));

  it('prefers mc_output_summary and asks for no comments', () => {
    const r = plan(task({}, { mc_output_summary: 'from field' }), [comment('summary=from comment', 1)]);
    expect(r.wants).toBeUndefined();
    expect(summaryLine(r.actions)).toBe('Resultado: from field');
  });

  it('falls back to the newest summary= line in the comments (which it asked for)', () => {
    const comments = [
      comment('[TASK_UPDATE] taskId=task-1\nstatus=in_progress\nsummary=older', FIRST_RUN + 10),
      comment('[TASK_UPDATE] taskId=task-1\nstatus=done\nprogress=100\nsummary=newest result', FIRST_RUN + 30),
      comment('a human remark without a summary', FIRST_RUN + 40),
    ];
    const r = plan(task(), comments);
    expect(r.wants).toEqual({ comments: true });
    expect(summaryLine(r.actions)).toBe('Resultado: newest result');
  });

  it('falls back to the description when no comment carries a summary', () => {
    const r = plan(task({ description: 'Describe the quarter' }), [comment('status=done', 1)]);
    expect(summaryLine(r.actions)).toBe('Resultado: Describe the quarter');
  });

  it('says so when there is nothing at all', () => {
    const r = plan(task({ description: null }), []);
    expect(summaryLine(r.actions)).toBe('Resultado: (sem resumo)');
  });

  it('waits rather than posting a worse message when wanted comments were not supplied', () => {
    const snap = snapshot(task());
    const r = deliveryReconciler.plan(snap);
    expect(r.actions).toEqual([]);
    expect(r.requeueAfterMs).toBeGreaterThan(0);
  });
});

describe('delivery planner: which tasks', () => {
  it.each(['inbox', 'in_progress', 'review'] as const)('ignores an undelivered %s task', (status) => {
    expect(plan(task({ status })).actions).toEqual([]);
  });

  it.each([true, 'true', 1, 'yes'])('ignores a done task already marked delivered (%j)', (flag) => {
    expect(plan(task({}, { mc_delivered: flag })).actions).toEqual([]);
  });

  it.each([false, null, undefined, 0, '', 'false', 'no', 'off', '0'])('delivers when mc_delivered is %j', (flag) => {
    expect(posts(plan(task({}, { mc_delivered: flag, mc_output_summary: 'x' })).actions)).toHaveLength(1);
  });

  it('uses the Delivered condition when mc_delivered is not bound to the board', () => {
    const bound = new Set([CONDITIONS_FIELD]);
    const t = task({}, { mc_output_summary: 'x' });
    const [post] = posts(plan(t, [], { boundFields: bound }).actions);
    expect(post!.after?.fields).toBeUndefined();
    const after = delivered(t, post!);
    expect(plan(after, [], { boundFields: bound }).actions).toEqual([]);
  });

  it('does nothing without the status field (no ledger, no exactly-once)', () => {
    expect(plan(task({}, { mc_output_summary: 'x' }), [], { boundFields: new Set(['mc_delivered']) }).actions).toEqual([]);
  });
});

describe('delivery planner: backlog', () => {
  const old = task({ updatedAt: FIRST_RUN - 86_400_000 }, { mc_output_summary: 'old result' });

  it('skip (default): a task done before the first run is marked delivered with a comment, not posted', () => {
    const { actions, wants } = plan(old);
    expect(wants).toBeUndefined();
    expect(posts(actions)).toEqual([]);
    const [patch] = patches(actions);
    expect(patch!.change.fields).toEqual({ mc_delivered: true });
    expect(patch!.change.conditions?.[0]).toMatchObject({ type: DELIVERED, status: 'True', reason: 'BacklogSkipped' });
    expect(patch!.change.comment).toMatch(/skipped.*backlog/);
  });

  it('skip: a task done after the first run is posted', () => {
    expect(posts(plan(task({ updatedAt: FIRST_RUN + 1 }, { mc_output_summary: 'x' })).actions)).toHaveLength(1);
  });

  it('deliver: backlog tasks are posted too', () => {
    const settings = { ...defaultPlannerSettings(), delivery: { backlog: 'deliver' as const, maxPerPass: 50 } };
    expect(posts(plan(old, [], { settings }).actions)).toHaveLength(1);
  });

  it('waits while the first run on the board is unknown instead of guessing', () => {
    const r = plan(old, [], { global: { degraded: false, firstRunAt: {} } });
    expect(r.actions).toEqual([]);
    expect(r.requeueAfterMs).toBeGreaterThan(0);
  });
});

describe('delivery planner: exactly once across passes', () => {
  const t0 = task({}, { mc_output_summary: 'result' });

  it('keeps the same key and nonce while the intent is pending (crash between post and mark)', () => {
    const [first] = posts(plan(t0).actions);
    const pending = withLedger(t0, first!.idempotencyKey, 'pending');
    const [retry] = posts(plan(pending).actions);
    expect(retry!.idempotencyKey).toBe(first!.idempotencyKey);
    expect(nonceFor(retry!.idempotencyKey)).toBe(nonceFor(first!.idempotencyKey));
    expect(retry!.content).toBe(first!.content);
  });

  it('plans nothing once the ledger says done and the task is marked', () => {
    const [post] = posts(plan(t0).actions);
    expect(plan(delivered(t0, post!)).actions).toEqual([]);
  });

  it('is stable when unrelated things change (updatedAt moved by our own writes)', () => {
    const a = posts(plan(t0).actions)[0]!;
    const b = posts(plan({ ...t0, updatedAt: t0.updatedAt + 5_000 }).actions)[0]!;
    expect(b.idempotencyKey).toBe(a.idempotencyKey);
  });

  it('re-open clears the mark; the next completion is delivered under a new key', () => {
    const first = posts(plan(t0).actions)[0]!;
    const afterFirst = delivered(t0, first);

    const reopened = { ...afterFirst, status: 'in_progress' as const, updatedAt: NOW + 1 };
    const [reset] = patches(plan(reopened).actions);
    expect(reset!.change.fields).toEqual({ mc_delivered: false });
    expect(reset!.change.comment).toBeUndefined();
    const afterReset: Task = { ...reopened, fields: { ...reopened.fields, mc_delivered: false } };
    expect(plan(afterReset).actions).toEqual([]);

    const doneAgain = { ...afterReset, status: 'done' as const, updatedAt: NOW + 2 };
    const second = posts(plan(doneAgain).actions)[0]!;
    expect(second.idempotencyKey).not.toBe(first.idempotencyKey);
    expect(nonceFor(second.idempotencyKey)).not.toBe(nonceFor(first.idempotencyKey));
    expect(plan(delivered(doneAgain, second)).actions).toEqual([]);
  });

  it('a mark reset by someone else on a done task (watchdog auto-complete) is a new delivery', () => {
    const first = posts(plan(t0).actions)[0]!;
    const reset: Task = { ...delivered(t0, first), fields: { ...delivered(t0, first).fields, mc_delivered: false } };
    const second = posts(plan(reset).actions)[0]!;
    expect(second.idempotencyKey).not.toBe(first.idempotencyKey);
  });

  it('keys differ between tasks', () => {
    const a = deliveryKey('task-1', emptyStatus());
    const b = deliveryKey('task-2', emptyStatus());
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[0-9a-f]{20}$/);
  });
});
