import { describe, expect, it } from 'vitest';
import { readStatus, type Action, type Board, type ChatMessage, type Session, type Task, type TaskPatchAction } from '../../src/model/index.js';
import { MIN, NOW, applyActions, gateway, snapshot, task } from '../../test/support/fixtures.js';
import { taskUpdateReconciler as r, SEEN } from './plan.js';

const KEY = 'agent:main:subagent:abc';
const patches = (actions: Action[]) => actions.filter((a): a is TaskPatchAction => a.type === 'task.patch');
const comments = (actions: Action[]) => patches(actions).flatMap((a) => (a.change.comment ? [a.change.comment] : []));
const linked = (over: Partial<Task> = {}, fields: Record<string, unknown> = {}) => task({ ...over, fields: { mc_session_key: KEY, ...fields } });
const session = (over: Partial<Session> = {}): Session => ({ key: KEY, status: 'running', updatedAt: NOW - MIN, ...over });
const say = (text: string, at = NOW - MIN): ChatMessage => ({ role: 'assistant', text, timestamp: at });
const board = (over: Partial<Board> = {}): Board => ({
  id: 'b1',
  name: 'b',
  gatewayId: null,
  requireApprovalForDone: false,
  requireReviewBeforeDone: false,
  blockStatusChangesWithPendingApproval: false,
  commentRequiredForReview: false,
  updatedAt: NOW,
  ...over,
});

/** One pass like the controller runs it: wants → history → plan. */
function pass(t: Task, s: Session, history: ChatMessage[], over: Parameters<typeof snapshot>[1] = {}) {
  const base = snapshot(t, { gateway: gateway([s]), board: board(), ...over });
  const w = r.wants!(t, base.status, base);
  const view = gateway([s], { history: w?.history ? { [KEY]: history } : {} });
  const result = r.plan({ ...base, gateway: view });
  return { wanted: w, actions: result.actions, task: applyActions(t, result.actions) };
}

describe('task-update reconciler', () => {
  it('mirrors a new block once: fields, status, one comment; the next pass reads and writes nothing', () => {
    const s = session({ status: 'done' });
    const history = [{ role: 'user', text: 'MC Task: t1' }, say('Done.\nTASK_UPDATE {"taskId":"t1","status":"done","progress":100,"summary":"report {v2} written","cost":0.42}')];
    const first = pass(linked(), s, history);
    expect(first.wanted).toEqual({ history: [KEY] });
    expect(comments(first.actions)).toHaveLength(1);
    expect(comments(first.actions)[0]).toMatch(/^\[mc-controller\] TASK_UPDATE from session .*status done → done, progress 100%, cost \$0.42/);
    expect(first.task.status).toBe('done');
    expect(first.task.fields).toMatchObject({ mc_progress: 100, mc_output_summary: 'report {v2} written', mc_actual_cost_usd: 0.42 });
    expect(readStatus(first.task.fields).ledger[SEEN]).toMatchObject({ at: s.updatedAt, ext: `${KEY} done` });
    // done tasks are out of scope, and even if they were not, the seen marker stops the read
    const second = pass({ ...first.task, status: 'in_progress' }, s, history);
    expect(second.wanted).toBeUndefined();
    expect(second.actions).toEqual([]);
  });

  it('a running session: blocks mirrored in order, the last wins; a new message later adds only its own block', () => {
    const s = session();
    const h1 = [say('TASK_UPDATE {"status":"in_progress","progress":20}'), say('TASK_UPDATE {"status":"in_progress","progress":60}')];
    const one = pass(linked(), s, h1);
    expect(comments(one.actions)).toHaveLength(2);
    expect(one.task.fields.mc_progress).toBe(60);
    // same history again (e.g. a fresh process without the seen marker matching): nothing new
    const again = pass(one.task, { ...s, updatedAt: NOW - MIN + 1 }, h1);
    expect(again.actions).toEqual([]);
    const h2 = [...h1, say('TASK_UPDATE {"status":"blocked","review_reason":"needs the API key"}')];
    const two = pass(one.task, { ...s, updatedAt: NOW }, h2);
    expect(comments(two.actions)).toHaveLength(1);
    expect(two.task.status).toBe('review');
    expect(readStatus(two.task.fields).conditions.find((c) => c.type === 'Blocked')).toMatchObject({ status: 'True', reason: 'AgentBlocked' });
    expect(readStatus(two.task.fields).conditions.find((c) => c.type === 'Ready')?.status).toBe('False');
    const three = pass(two.task, { ...s, updatedAt: NOW + 1 }, [...h2, say('TASK_UPDATE {"status":"in_progress","progress":70}')]);
    expect(three.task.status).toBe('in_progress');
    expect(readStatus(three.task.fields).conditions.find((c) => c.type === 'Blocked')?.status).toBe('False');
  });

  it('failed → review with mc_last_error; a later success clears the error but never a watchdog flag', () => {
    const s = session();
    const failed = pass(linked(), s, [say('TASK_UPDATE {"status":"error","error":"disk full"}')]);
    expect(failed.task.status).toBe('review');
    expect(failed.task.fields.mc_last_error).toBe('disk full');
    const ok = pass(failed.task, { ...s, updatedAt: NOW }, [say('TASK_UPDATE {"status":"error","error":"disk full"}'), say('TASK_UPDATE {"status":"running"}')]);
    expect(ok.task.fields.mc_last_error).toBeNull();
    expect(ok.task.status).toBe('in_progress');
    const flagged = pass(linked({}, { mc_last_error: 'stalled' }), s, [say('TASK_UPDATE {"status":"in_progress","progress":5}')]);
    expect(flagged.task.fields.mc_last_error).toBe('stalled');
  });

  it('done respects the done gate: review + Blocked(DoneAwaitingApproval) when the board requires an approval', () => {
    const out = pass(linked(), session(), [say('TASK_UPDATE {"status":"completed","summary":"ok"}')], { board: board({ requireApprovalForDone: true }) });
    expect(out.task.status).toBe('review');
    expect(readStatus(out.task.fields).conditions.find((c) => c.type === 'Blocked')?.reason).toBe('DoneAwaitingApproval');
    expect(comments(out.actions)[0]).toMatch(/requires an approved approval/);
  });

  it('an unknown status keeps the status and says so; blocks for another task are ignored', () => {
    const out = pass(linked(), session(), [say('TASK_UPDATE {"status":"plan_submitted","progress":30}'), say('TASK_UPDATE {"taskId":"other","status":"done"}')]);
    expect(out.task.status).toBe('in_progress');
    expect(out.task.fields.mc_progress).toBe(30);
    expect(comments(out.actions)).toHaveLength(1);
    expect(comments(out.actions)[0]).toMatch(/unknown status "plan_submitted"/);
  });

  it('user messages (the spawn prompt with its example block) are never mirrored; garbage changes nothing', () => {
    const out = pass(linked(), session({ updatedAt: NOW - 10_000 }), [{ role: 'user', text: 'TASK_UPDATE {"taskId":"t1","status":"in_progress","progress":0}' }, say('TASK_UPDATE {garbage')]);
    expect(out.actions).toEqual([]);
  });

  it('a finished session with no blocks records the seen version once, then stops reading', () => {
    const s = session({ status: 'done' });
    const first = pass(linked(), s, [say('all done, no block')]);
    expect(comments(first.actions)).toEqual([]);
    expect(patches(first.actions)).toHaveLength(1);
    const second = pass(first.task, s, [say('all done, no block')]);
    expect(second.wanted).toBeUndefined();
    expect(second.actions).toEqual([]);
    // a session still active (changed 10 s ago) without blocks: no write at all (the in-process cache avoids re-reads)
    expect(pass(linked(), session({ updatedAt: NOW - 10_000 }), [say('thinking', NOW - 10_000)]).actions).toEqual([]);
    // a run that ends without moving updatedAt is still read again: the marker remembers the state too
    const marked = pass(linked(), session({ status: 'done', updatedAt: NOW - 5 * MIN }), [say('thinking')]).task;
    const ended = pass(marked, session({ status: 'failed', updatedAt: NOW - 5 * MIN }), [say('TASK_UPDATE {"status":"failed","error":"x"}')]);
    expect(ended.wanted).toEqual({ history: [KEY] });
    expect(ended.task.fields.mc_last_error).toBe('x');
  });

  it('a running session that went quiet: one write records the consumed version, and a restart reads nothing until it changes', () => {
    const quiet = session({ updatedAt: NOW - 2 * MIN });
    const first = pass(linked(), quiet, [say('waiting for the build', NOW - 2 * MIN - 500)]);
    expect(comments(first.actions)).toEqual([]);
    expect(patches(first.actions)).toHaveLength(1);
    expect(readStatus(first.task.fields).ledger[SEEN]).toMatchObject({ at: quiet.updatedAt, ext: `${KEY} running`, n: NOW - 2 * MIN - 500 });
    // what a fresh process sees: the ledger alone says the transcript at this version was read
    const restarted = pass(first.task, quiet, []);
    expect(restarted.wanted).toBeUndefined();
    expect(restarted.actions).toEqual([]);
    // the session moves again: read once more
    expect(pass(first.task, { ...quiet, updatedAt: NOW }, []).wanted).toEqual({ history: [KEY] });
  });

  it('unlinked, done, or gateway not synced: no history wanted', () => {
    const s = session();
    for (const t of [task(), linked({ status: 'done' })]) {
      const base = snapshot(t, { gateway: gateway([s]) });
      expect(r.wants!(t, base.status, base)).toBeUndefined();
    }
    const t = linked();
    const base = snapshot(t, { gateway: gateway([s], { synced: false }) });
    expect(r.wants!(t, base.status, base)).toBeUndefined();
  });
});
