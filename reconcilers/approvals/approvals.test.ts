import { describe, expect, it } from 'vitest';
import {
  CONDITIONS_FIELD,
  actionSchema,
  defaultPlannerSettings,
  readStatus,
  type Action,
  type Approval,
  type DiscordPostAction,
  type Task,
  type TaskSnapshot,
} from '../../src/model/index.js';
import { CONTENT_LIMIT, EMBED_DESCRIPTION_LIMIT, refLine } from '../../src/model/discord-text.js';
import { APPROVAL_NOTIFIED, approvalsReconciler, followUpKey, noticeKey, ownerOf } from './index.js';
import { NOTICE_HEADER } from './format.js';

const BOARD = 'board-1';
const FIRST_RUN = Date.parse('2026-03-01T00:00:00Z');
const NOW = FIRST_RUN + 3_600_000;
const BOUND = new Set([CONDITIONS_FIELD, 'mc_approval_notified']);

function task(over: Partial<Task> = {}, fields: Record<string, unknown> = {}): Task {
  return {
    id: 'task-1',
    boardId: BOARD,
    title: 'Deploy the release',
    description: null,
    status: 'review',
    priority: 'high',
    assignedAgentId: null,
    inProgressAt: null,
    createdAt: FIRST_RUN,
    updatedAt: FIRST_RUN + 10,
    ...over,
    fields: { mc_approval_notified: false, ...fields },
  };
}

function approval(over: Partial<Approval> = {}): Approval {
  return {
    id: 'appr-1',
    boardId: BOARD,
    actionType: 'manual_override',
    taskId: 'task-1',
    taskIds: ['task-1'],
    taskTitles: ['Deploy the release'],
    payload: { reason: 'needs a human to confirm the rollout' },
    confidence: 80,
    status: 'pending',
    agentId: null,
    createdAt: FIRST_RUN + 1_000,
    resolvedAt: null,
    ...over,
  };
}

function plan(t: Task, approvals: Approval[], over: Partial<TaskSnapshot> = {}) {
  const snap: TaskSnapshot = {
    now: NOW,
    settings: { ...defaultPlannerSettings(), publicUrl: 'https://mc.example/' },
    board: null,
    boardId: BOARD,
    task: t,
    status: readStatus(t.fields),
    approvals,
    global: { degraded: false, firstRunAt: { [BOARD]: FIRST_RUN } },
    boundFields: BOUND,
    ...over,
  };
  const result = approvalsReconciler.plan(snap);
  for (const a of result.actions) expect(actionSchema.safeParse(a).success).toBe(true);
  return result;
}

const posts = (actions: Action[]) => actions.filter((a): a is DiscordPostAction => a.type === 'discord.post');

/** The executor's effect of a successful post: ledger confirmed plus `after`'s fields. */
function applied(t: Task, post: DiscordPostAction): Task {
  const status = readStatus(t.fields);
  const ledger = { ...status.ledger, [post.idempotencyKey]: { s: 'done' as const, at: NOW, ext: 'msg' } };
  return { ...t, fields: { ...t.fields, ...post.after?.fields, [CONDITIONS_FIELD]: { ...status, ledger } } };
}
function pending(t: Task, key: string): Task {
  const status = readStatus(t.fields);
  return { ...t, fields: { ...t.fields, [CONDITIONS_FIELD]: { ...status, ledger: { ...status.ledger, [key]: { s: 'pending', at: NOW } } } } };
}

describe('approvals planner: notice', () => {
  it('announces a pending approval in the legacy format with Motivo from payload.reason and the link', () => {
    const { actions } = plan(task(), [approval()]);
    expect(actions).toHaveLength(1);
    const post = posts(actions)[0]!;
    expect(post.purpose).toBe('approvals');
    expect(post.task).toEqual({ boardId: BOARD, taskId: 'task-1' });
    expect(post.idempotencyKey).toBe(noticeKey('appr-1'));
    expect(post.content.split('\n')).toEqual([
      NOTICE_HEADER,
      'Task: Deploy the release',
      'Task ID: task-1',
      'Approval ID: appr-1',
      'Status: pending',
      'Motivo: needs a human to confirm the rollout',
      `Link: https://mc.example/boards/${BOARD}?task=task-1`,
      refLine(post.idempotencyKey),
    ]);
    expect(post.after?.fields).toEqual({ mc_approval_notified: true });
    expect(post.after?.conditions?.[0]).toMatchObject({ type: APPROVAL_NOTIFIED, status: 'True' });
    expect(post.after?.ledger?.[noticeKey('appr-1')]?.s).toBe('done');
    expect(post.after?.comment).toMatch(/^\[mc-controller\] approvals: approval appr-1 announced/);
  });

  it('omits Motivo without a reason and Link without a public URL', () => {
    const { actions } = plan(task(), [approval({ payload: null })], {
      settings: { ...defaultPlannerSettings(), publicUrl: null },
    });
    const content = posts(actions)[0]!.content;
    expect(content).not.toMatch(/Motivo:|Link:/);
  });

  it('reads payload.decision.reason when payload.reason is absent', () => {
    const { actions } = plan(task(), [approval({ payload: { decision: { reason: 'nested why' } } })]);
    expect(posts(actions)[0]!.content).toContain('Motivo: nested why');
  });

  it('escapes agent-written reason and title; @everyone pings nobody', () => {
    const { actions } = plan(task({ title: '@everyone [click](https://evil.example)' }), [
      approval({ payload: { reason: '@here **now** <@&42424242>' } }),
    ]);
    const content = posts(actions)[0]!.content;
    expect(content).not.toMatch(/@(everyone|here)|<@&\d/);
    expect(content).toContain('\\[click](https://evil.example)');
    expect(content).toContain('\\*\\*now\\*\\*');
  });

  it('cuts a long title to 120 and fits a huge reason within the limits', () => {
    const { actions } = plan(task({ title: 'x'.repeat(400) }), [approval({ payload: { reason: 'r'.repeat(9000) } })]);
    const post = posts(actions)[0]!;
    expect(post.content).toContain(`Task: ${'x'.repeat(119)}…\n`);
    expect(post.content.length).toBeLessThanOrEqual(CONTENT_LIMIT);
    expect(post.embeds?.[0]?.description.length).toBeLessThanOrEqual(EMBED_DESCRIPTION_LIMIT);
    expect(post.content).toContain(refLine(post.idempotencyKey));
    expect(post.content).toContain('Link: https://mc.example');
  });

  it('plans nothing once the ledger says the notice is done', () => {
    const t = task();
    const post = posts(plan(t, [approval()]).actions)[0]!;
    expect(plan(applied(t, post), [approval()]).actions).toEqual([]);
  });

  it('retries a pending notice under the same key (same nonce)', () => {
    const t = pending(task(), noticeKey('appr-1'));
    const post = posts(plan(t, [approval()]).actions)[0]!;
    expect(post.idempotencyKey).toBe(noticeKey('appr-1'));
  });

  it('announces a second approval on the same task, which the kit never did', () => {
    const t = task();
    const first = posts(plan(t, [approval()]).actions)[0]!;
    const afterFirst = applied(t, first);
    const resolved = approval({ status: 'approved', resolvedAt: NOW - 10 });
    const second = approval({ id: 'appr-2', createdAt: NOW - 5, payload: { reason: 'again' } });
    const actions = posts(plan(afterFirst, [resolved, second]).actions);
    const notice = actions.find((a) => a.idempotencyKey === noticeKey('appr-2'));
    expect(notice?.content).toContain('Approval ID: appr-2');
    expect(afterFirst.fields['mc_approval_notified']).toBe(true);
  });

  it('announces every pending approval, one message each', () => {
    const { actions } = plan(task(), [approval(), approval({ id: 'appr-2', createdAt: FIRST_RUN + 2_000 })]);
    expect(posts(actions).map((p) => p.idempotencyKey)).toEqual([noticeKey('appr-1'), noticeKey('appr-2')]);
  });

  it('keeps keys stable across passes and distinct per approval', () => {
    const a = posts(plan(task(), [approval()]).actions)[0]!;
    const b = posts(plan({ ...task(), updatedAt: NOW }, [approval()]).actions)[0]!;
    expect(b.idempotencyKey).toBe(a.idempotencyKey);
    expect(b.content).toBe(a.content);
    expect(noticeKey('appr-1')).not.toBe(noticeKey('appr-2'));
  });
});

describe('approvals planner: multi-task approvals', () => {
  const shared = approval({
    taskId: 'task-1',
    taskIds: ['task-1', 'task-2', 'task-3'],
    taskTitles: ['Deploy the release', 'Migrate the DB', '@everyone third'],
  });

  it('only the first linked task owns the notice, which names the other tasks', () => {
    expect(ownerOf(shared)).toBe('task-1');
    const owner = posts(plan(task(), [shared]).actions);
    expect(owner).toHaveLength(1);
    expect(owner[0]!.content).toContain('Outras tasks: Migrate the DB (task-2), @\u200beveryone third (task-3)');
    expect(plan(task({ id: 'task-2' }), [shared]).actions).toEqual([]);
    expect(plan(task({ id: 'task-3' }), [shared]).actions).toEqual([]);
  });

  it('falls back to task_ids[0] when task_id is absent', () => {
    expect(ownerOf({ ...shared, taskId: null })).toBe('task-1');
    expect(ownerOf({ ...shared, taskId: null, taskIds: [] })).toBeNull();
  });
});

describe('approvals planner: follow-ups', () => {
  const t = task();
  const announced = applied(t, posts(plan(t, [approval()]).actions)[0]!);

  it.each([
    ['approved', '✅'],
    ['rejected', '❌'],
  ] as const)('posts one short follow-up when an announced approval is %s', (status, icon) => {
    const resolved = approval({ status, resolvedAt: NOW });
    const [post, ...rest] = posts(plan(announced, [resolved]).actions);
    expect(rest).toEqual([]);
    expect(post!.idempotencyKey).toBe(followUpKey('appr-1', status));
    expect(post!.content.split('\n')[0]).toBe(`${icon} Approval appr-1 ${status} — Task: Deploy the release`);
    expect(post!.after?.comment).toBeUndefined();
    expect(post!.after?.conditions?.[0]).toMatchObject({ type: APPROVAL_NOTIFIED, status: 'False', reason: 'Resolved' });
    expect(plan(applied(announced, post!), [resolved]).actions).toEqual([]);
  });

  it('follows up when the notice is still pending (it may have gone out before a crash)', () => {
    const maybe = pending(t, noticeKey('appr-1'));
    expect(posts(plan(maybe, [approval({ status: 'approved' })]).actions)).toHaveLength(1);
  });

  it('never follows up an approval that was never announced', () => {
    expect(plan(t, [approval({ status: 'approved' })]).actions).toEqual([]);
    expect(plan(t, [approval({ status: 'rejected' })]).actions).toEqual([]);
  });
});

describe('approvals planner: legacy flag and guards', () => {
  it('trusts the kit’s per-task flag for approvals older than our first run', () => {
    const legacy = task({}, { mc_approval_notified: true });
    expect(plan(legacy, [approval({ createdAt: FIRST_RUN - 1 })]).actions).toEqual([]);
  });

  it('still announces a newer approval on a task the kit had flagged', () => {
    const legacy = task({}, { mc_approval_notified: true });
    expect(posts(plan(legacy, [approval({ createdAt: FIRST_RUN + 1 })]).actions)).toHaveLength(1);
  });

  it('waits while the first run is unknown for a kit-flagged task', () => {
    const legacy = task({}, { mc_approval_notified: true });
    const r = plan(legacy, [approval()], { global: { degraded: false, firstRunAt: {} } });
    expect(r.actions).toEqual([]);
    expect(r.requeueAfterMs).toBeGreaterThan(0);
  });

  it('does not write mc_approval_notified when the board lacks it', () => {
    const { actions } = plan(task(), [approval()], { boundFields: new Set([CONDITIONS_FIELD]) });
    expect(posts(actions)[0]!.after?.fields).toBeUndefined();
  });

  it('does nothing without the status field (no ledger)', () => {
    expect(plan(task(), [approval()], { boundFields: new Set(['mc_approval_notified']) }).actions).toEqual([]);
  });
});
