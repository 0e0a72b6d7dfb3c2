import { describe, expect, it } from 'vitest';
import { consumedMark, readStatus, SESSION_SEEN, type Action, type Task, type TaskPatchAction } from '../../src/model/index.js';
import { MIN, NOW, applyActions, gateway, snapshot, task, withCondition } from '../../test/support/fixtures.js';
import { plan, watchdog } from './plan.js';

const patches = (actions: Action[]) => actions.filter((a): a is TaskPatchAction => a.type === 'task.patch');
const comments = (actions: Action[]) => patches(actions).flatMap((a) => (a.change.comment ? [a.change.comment] : []));
const cond = (t: Task, type: string) => readStatus(t.fields).conditions.find((c) => c.type === type);
const settings = (over: Record<string, unknown> = {}) => {
  const s = snapshot(task()).settings;
  return { ...s, watchdog: { ...s.watchdog, ...over } };
};

/** Runs passes like the loop would, feeding each pass's writes into the next. */
function passes(start: Task, n: number, view: ReturnType<typeof gateway> | undefined, over: Record<string, unknown> = {}, step = 0) {
  let t = start;
  const all: Action[][] = [];
  for (let i = 0; i < n; i++) {
    const now = NOW + i * step;
    const r = plan(snapshot(t, { now, settings: settings(over), ...(view ? { gateway: view } : {}) }));
    all.push(r.actions);
    t = applyActions(t, r.actions, now);
  }
  return { task: t, passes: all };
}

describe('watchdog: missing session key (S5)', () => {
  it('waits out the grace period, asking to be requeued when it ends', () => {
    const t = task({ inProgressAt: NOW - 3 * MIN });
    const r = plan(snapshot(t, { settings: settings({ scope: 'all' }) }));
    expect(r.actions).toEqual([]);
    expect(r.requeueAfterMs).toBe(7 * MIN);
  });

  it('flags review + missing_session_key once; the second pass adds nothing', () => {
    const { task: t, passes: p } = passes(task({ inProgressAt: NOW - 20 * MIN, fields: { mc_progress: 5 } }), 2, undefined, { scope: 'all' });
    expect(t.status).toBe('review');
    expect(t.fields.mc_last_error).toBe('missing_session_key');
    expect(cond(t, 'SessionLinked')).toMatchObject({ status: 'False', reason: 'MissingSessionKey' });
    expect(cond(t, 'Ready')?.status).toBe('False');
    expect(comments(p[0]!)).toHaveLength(1);
    expect(comments(p[0]!)[0]).toMatch(/^\[mc-controller\] .*mc_session_key/);
    expect(p[1]).toEqual([]);
  });

  it('linking later clears the flag and returns the task to in_progress with one comment', () => {
    const flagged = passes(task({ inProgressAt: NOW - 20 * MIN }), 1, undefined, { scope: 'all' }).task;
    const linked = { ...flagged, fields: { ...flagged.fields, mc_session_key: 'agent:main:subagent:a' } };
    const view = gateway([{ key: 'agent:main:subagent:a', status: 'running', updatedAt: NOW - MIN }]);
    const { task: t, passes: p } = passes(linked, 2, view);
    expect(t.status).toBe('in_progress');
    expect(t.fields.mc_last_error).toBeNull();
    expect(cond(t, 'SessionLinked')).toMatchObject({ status: 'True', reason: 'Linked' });
    expect(comments(p[0]!)).toHaveLength(1);
    expect(p[1]).toEqual([]);
  });

  it('with scope linked, an unlinked task not created by our flow is left alone', () => {
    expect(plan(snapshot(task({ inProgressAt: NOW - 20 * MIN }))).actions).toEqual([]);
  });

  it('never touches inbox or done tasks', () => {
    for (const status of ['inbox', 'done'] as const) {
      expect(plan(snapshot(task({ status, inProgressAt: null }), { settings: settings({ scope: 'all' }) })).actions).toEqual([]);
    }
  });
});

describe('watchdog: stalls', () => {
  const key = 'agent:main:subagent:s1';
  const linked = (over: Partial<Task> = {}) => task({ ...over, fields: { mc_session_key: key } });

  it('stalled → unstalled → stalled again, one comment per transition', () => {
    let t = linked();
    const stale = gateway([{ key, status: 'running', updatedAt: NOW - 90 * MIN, lastActivityAt: NOW - 90 * MIN }]);
    let r = passes(t, 2, stale);
    t = r.task;
    expect(t.status).toBe('review');
    expect(t.fields.mc_last_error).toBe('stalled');
    expect(cond(t, 'Stalled')).toMatchObject({ status: 'True', reason: 'NoActivity' });
    expect(comments(r.passes.flat())).toHaveLength(1);

    const fresh = gateway([{ key, status: 'running', updatedAt: NOW - MIN, lastActivityAt: NOW - MIN }]);
    r = passes(t, 2, fresh);
    t = r.task;
    expect(t.status).toBe('in_progress');
    expect(t.fields.mc_last_error).toBeNull();
    expect(cond(t, 'Stalled')).toMatchObject({ status: 'False', reason: 'ActivityResumed' });
    expect(comments(r.passes.flat())).toHaveLength(1);

    r = passes(t, 2, stale);
    expect(r.task.status).toBe('review');
    expect(r.task.fields.mc_last_error).toBe('stalled');
    expect(comments(r.passes.flat())).toHaveLength(1);
    // The second stall is a new transition, so it has a new idempotency key.
    expect(patches(r.passes[0]!)[0]!.idempotencyKey).not.toBe(patches(passes(linked(), 1, stale).passes[0]!)[0]!.idempotencyKey);
  });

  it('a spawned child keeps its parent alive', () => {
    const view = gateway([
      { key, status: 'running', updatedAt: NOW - 90 * MIN },
      { key: 'agent:main:subagent:child', status: 'running', spawnedBy: key, updatedAt: NOW - 2 * MIN },
    ]);
    const r = plan(snapshot(linked(), { gateway: view }));
    expect(patches(r.actions).some((a) => a.change.status === 'review')).toBe(false);
    expect(r.requeueAfterMs).toBe(58 * MIN);
  });

  it('chat history newer than the row counts as activity', () => {
    const view = gateway([{ key, status: 'running', updatedAt: NOW - 90 * MIN }], {
      history: { [key]: [{ role: 'assistant', text: 'working', timestamp: NOW - 5 * MIN }] },
    });
    expect(patches(plan(snapshot(linked(), { gateway: view })).actions).some((a) => a.change.status === 'review')).toBe(false);
  });

  it('a transcript the ledger says was read at this version is not read again: its newest message time is in the ledger', () => {
    const row = { key, status: 'running', updatedAt: NOW - 90 * MIN };
    const history = [{ role: 'assistant', text: 'working', timestamp: NOW - 5 * MIN }];
    const marked = task({ fields: { mc_session_key: key, mc_conditions: { ledger: { [SESSION_SEEN]: consumedMark(row, history) } } } });
    const base = snapshot(marked, { gateway: gateway([row]) });
    expect(watchdog.wants!(marked, base.status, base)).toBeUndefined();
    // without the read, the ledger's message time still keeps it alive …
    expect(patches(plan(base).actions).some((a) => a.change.status === 'review')).toBe(false);
    // … and once that time is older than the threshold too, it is stalled, still without a read
    const stale = plan(snapshot(marked, { gateway: gateway([row]), now: NOW + 60 * MIN }));
    expect(patches(stale.actions).some((a) => a.change.status === 'review')).toBe(true);
    // the row moved: read again
    const moved = snapshot(marked, { gateway: gateway([{ ...row, updatedAt: NOW - 80 * MIN }]) });
    expect(watchdog.wants!(marked, moved.status, moved)).toEqual({ history: [key] });
  });

  it('does not fight a human who moved a stalled task back to in_progress', () => {
    const stale = gateway([{ key, status: 'running', updatedAt: NOW - 90 * MIN }]);
    const t = { ...passes(linked(), 1, stale).task, status: 'in_progress' as const };
    expect(plan(snapshot(t, { gateway: stale })).actions).toEqual([]);
  });
});

describe('watchdog: exec approvals', () => {
  const key = 'agent:main:main:x';
  it('a session waiting on an exec approval → review + needs_approval with the command in the comment', () => {
    const view = gateway([{ key, status: 'running', updatedAt: NOW - MIN }], {
      approvals: [{ id: 'ap1', sessionKey: key, command: 'rm -rf /tmp/nothing', expiresAtMs: NOW + 30 * MIN }],
    });
    const { task: t, passes: p } = passes(task({ fields: { mc_session_key: key } }), 2, view);
    expect(t.status).toBe('review');
    expect(t.fields.mc_last_error).toBe('needs_approval');
    expect(comments(p[0]!)[0]).toContain('rm -rf /tmp/nothing');
    expect(p[1]).toEqual([]);
    const resolved = passes(t, 1, gateway([{ key, status: 'running', updatedAt: NOW - MIN }]));
    expect(resolved.task.status).toBe('in_progress');
    expect(resolved.task.fields.mc_last_error).toBeNull();
  });
});

describe('watchdog: finished sessions', () => {
  const key = 'agent:main:subagent:done1';
  it('moves to review with the final assistant message as summary when none is set', () => {
    const view = gateway([{ key, status: 'done', updatedAt: NOW - MIN, endedAt: NOW - MIN }], {
      history: { [key]: [{ role: 'user', text: 'do it' }, { role: 'assistant', text: 'All done: 3 files changed.' }] },
    });
    const { task: t, passes: p } = passes(task({ fields: { mc_session_key: key } }), 2, view);
    expect(t.status).toBe('review');
    expect(t.fields.mc_output_summary).toBe('All done: 3 files changed.');
    expect(cond(t, 'Completed')).toMatchObject({ status: 'True', reason: 'SessionFinished' });
    expect(p[1]).toEqual([]);
  });

  it('keeps an existing summary and goes to done only when enabled and the board allows it', () => {
    const view = gateway([{ key, status: 'done', updatedAt: NOW - MIN }]);
    const t = task({ fields: { mc_session_key: key, mc_output_summary: 'mine' } });
    const board = { id: 'b1', name: 'b', gatewayId: 'g', requireApprovalForDone: false, requireReviewBeforeDone: false, blockStatusChangesWithPendingApproval: false, commentRequiredForReview: false, updatedAt: 0 };
    const on = { ...settings({ doneOnSessionEnd: true }) };
    const done = plan(snapshot(t, { gateway: view, settings: on, board }));
    expect(patches(done.actions).at(-1)!.change.status).toBe('done');
    expect(patches(done.actions).at(-1)!.change.fields).not.toHaveProperty('mc_output_summary');
    const gated = plan(snapshot(t, { gateway: view, settings: on, board: { ...board, requireApprovalForDone: true } }));
    expect(patches(gated.actions).at(-1)!.change.status).toBe('review');
    // waits behind the gate the way an agent's done report does, so an approved approval finishes it
    expect(patches(gated.actions).at(-1)!.change.conditions).toContainEqual(expect.objectContaining({ type: 'Blocked', status: 'True', reason: 'DoneAwaitingApproval' }));
    expect(patches(gated.actions).at(-1)!.change.comment).toMatch(/finished\. in_progress → review: board requires an approved approval for done\./);
    // without MC_DONE_ON_SESSION_END a human looks: review, not a wait on the gate
    const off = plan(snapshot(t, { gateway: view, board: { ...board, requireApprovalForDone: true } }));
    expect(patches(off.actions).at(-1)!.change.conditions?.map((c) => c.type)).toEqual(['Completed']);
    const refused = withCondition(t, 'SessionLinked', 'True', 'Linked');
    const refusedTask = { ...refused, fields: { ...refused.fields, mc_conditions: { ...readStatus(refused.fields), ledger: { 'refused:done': { s: 'failed', at: NOW } } } } };
    expect(patches(plan(snapshot(refusedTask, { gateway: view, settings: on, board })).actions).at(-1)!.change.status).toBe('review');
  });
});

describe('watchdog: the done report and the run\'s end in either order', () => {
  const key = 'agent:main:subagent:gated1';
  it('a task already waiting on the done gate still records its run\'s end (Completed), moves nothing, writes once', () => {
    // the agent's done report came first: review, Blocked=DoneAwaitingApproval (what task-update leaves)
    const gatedTask = { ...withCondition(withCondition(task({ fields: { mc_session_key: key } }), 'SessionLinked', 'True', 'Linked'), 'Blocked', 'True', 'DoneAwaitingApproval'), status: 'review' as const };
    const running = gateway([{ key, status: 'running', updatedAt: NOW - MIN }]);
    expect(plan(snapshot(gatedTask, { gateway: running })).actions).toEqual([]);
    const ended = gateway([{ key, status: 'done', updatedAt: NOW, endedAt: NOW }]);
    const { task: t, passes: p } = passes(gatedTask, 2, ended);
    expect(t.status).toBe('review');
    expect(cond(t, 'Completed')).toMatchObject({ status: 'True', reason: 'SessionFinished' });
    expect(cond(t, 'Blocked')).toMatchObject({ status: 'True', reason: 'DoneAwaitingApproval' });
    expect(patches(p[0]!).every((a) => a.change.status === undefined)).toBe(true);
    expect(comments(p[0]!)).toEqual([]);
    expect(p[1]).toEqual([]);
  });
});

describe('watchdog: lost sessions and retries (S1, S2)', () => {
  const key = '__qa_missing_1';
  it('S1: max 1 → first pass counts a recovery attempt (in_progress, retry 1), second → review + needs_approval', () => {
    const { task: t1, passes: p1 } = passes(task({ fields: { mc_session_key: key, mc_progress: 10 } }), 1, gateway([]), { maxRetries: 1, retryIntervalSeconds: 0 });
    expect(t1.status).toBe('in_progress');
    expect(t1.fields.mc_retry_count).toBe(1);
    expect(t1.fields.mc_last_error).toBe('retry');
    expect(comments(p1[0]!)).toHaveLength(1);
    const { task: t2, passes: p2 } = passes(t1, 3, gateway([]), { maxRetries: 1, retryIntervalSeconds: 0 });
    expect(t2.status).toBe('review');
    expect(t2.fields.mc_last_error).toBe('needs_approval');
    expect(t2.fields.mc_retry_count).toBe(1);
    expect(comments(p2.flat())).toHaveLength(1);
  });

  it('S2: max 0 → straight to review + needs_approval, retry stays 0', () => {
    const { task: t } = passes(task({ fields: { mc_session_key: key, mc_progress: 20 } }), 2, gateway([]), { maxRetries: 0 });
    expect(t).toMatchObject({ status: 'review' });
    expect(t.fields.mc_last_error).toBe('needs_approval');
    expect(t.fields.mc_retry_count).toBe(0);
  });

  it('attempts are spaced by the retry interval and never flap the status', () => {
    const { task: t, passes: p } = passes(task({ fields: { mc_session_key: key } }), 6, gateway([]), { maxRetries: 2, retryIntervalSeconds: 300 }, 2 * MIN);
    const statuses = p.flatMap((a) => patches(a).flatMap((x) => (x.change.status ? [x.change.status] : [])));
    expect(statuses).toEqual(['review']);
    expect(t.fields.mc_retry_count).toBe(2);
    expect(comments(p.flat())).toHaveLength(3);
  });

  it('a failed or killed row counts as lost too', () => {
    for (const status of ['failed', 'killed']) {
      const r = plan(snapshot(task({ fields: { mc_session_key: key } }), { gateway: gateway([{ key, status, updatedAt: NOW }]) }));
      expect(patches(r.actions).at(-1)!.change.fields).toMatchObject({ mc_retry_count: 1, mc_last_error: 'retry' });
    }
  });

  it('no session is declared missing during the grace after a gateway start, nor while the gateway is unsynced', () => {
    const t = task({ fields: { mc_session_key: key } });
    const young = plan(snapshot(t, { gateway: gateway([], { startedAt: NOW - 30_000 }) }));
    expect(young.actions.filter((a) => a.type === 'task.patch' && a.change.fields?.mc_retry_count)).toEqual([]);
    expect(young.requeueAfterMs).toBe(90_000);
    expect(plan(snapshot(t, { gateway: gateway([], { synced: false }) })).actions.every((a) => a.type === 'task.patch' && !a.change.status)).toBe(true);
  });
});
