import { describe, expect, it } from 'vitest';
import { readStatus, type Action, type Board, type ChatMessage, type Session, type Task, type TaskPatchAction } from '../../src/model/index.js';
import { MIN, NOW, applyActions, approval, board as boardOf, gateway, snapshot, task } from '../../test/support/fixtures.js';
import { taskUpdateReconciler as r, SEEN } from './plan.js';
import type { Approval } from '../../src/model/index.js';



const KEY = 'agent:main:subagent:abc';
const patches = (actions: Action[]) => actions.filter((a): a is TaskPatchAction => a.type === 'task.patch');
/** what the task gets written for on its own: riders only come along with another write */
const own = (actions: Action[]) => actions.filter((a) => !(a.type === 'task.patch' && a.change.rider));
const riders = (actions: Action[]) => patches(actions).filter((a) => a.change.rider);
const comments = (actions: Action[]) => patches(actions).flatMap((a) => (a.change.comment ? [a.change.comment] : []));
const linked = (over: Partial<Task> = {}, fields: Record<string, unknown> = {}) => task({ ...over, fields: { mc_session_key: KEY, ...fields } });
const session = (over: Partial<Session> = {}): Session => ({ key: KEY, status: 'running', updatedAt: NOW - MIN, ...over });
const say = (text: string, at = NOW - MIN): ChatMessage => ({ role: 'assistant', text, timestamp: at });
/** this file's boards let done through unless a test switches the gate on */
const board = (over: Partial<Board> = {}): Board => boardOf({ gatewayId: null, requireApprovalForDone: false, updatedAt: NOW, ...over });

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
    expect(comments(first.actions)[0]).toMatch(/^\[mc-controller\] TASK_UPDATE from session .*: reported done, progress 100%, cost \$0.42\.\nStatus: in_progress → done\./);
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
    expect(own(again.actions)).toEqual([]);
    // the version read rides along with the next write the task gets anyway
    expect(riders(again.actions).map((a) => a.change.ledger?.[SEEN])).toEqual([expect.objectContaining({ at: NOW - MIN + 1, ext: `${KEY} running` })]);
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
    expect(comments(out.actions)[0]).toMatch(/\nStatus: in_progress → review: board requires an approved approval for done\./);
    expect(comments(out.actions)[0]).not.toMatch(/done → done/);
  });

  it('a refusal recorded by the executor keeps the task out of done and names the rule it gave, until an approval changes', () => {
    const refused = linked({}, { mc_conditions: { observedHash: '', conditions: [], ledger: { 'refused:done': { s: 'failed', at: NOW - MIN, ext: 'board requires review before done' } } } });
    const say1 = [say('TASK_UPDATE {"status":"done","summary":"ok"}')];
    const out = pass(refused, session(), say1, { board: board({ updatedAt: NOW - 2 * MIN }) });
    expect(out.task.status).toBe('review');
    expect(comments(out.actions)[0]).toMatch(/Status: in_progress → review: board requires review before done\./);
    // an approval approved after the refusal: judged afresh, and this board lets done through
    const later = pass(refused, session(), say1, { board: board({ updatedAt: NOW - 2 * MIN }), approvals: [approval('approved', NOW)] });
    expect(later.task.status).toBe('done');
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
    expect(own(out.actions)).toEqual([]);
  });

  it('a finished session with no blocks records the seen version once, then stops reading', () => {
    const s = session({ status: 'done' });
    const first = pass(linked(), s, [say('all done, no block')]);
    expect(comments(first.actions)).toEqual([]);
    expect(patches(first.actions)).toHaveLength(1);
    const second = pass(first.task, s, [say('all done, no block')]);
    expect(second.wanted).toBeUndefined();
    expect(second.actions).toEqual([]);
    // a session still active (changed 10 s ago) without blocks: no write of its own (the in-process cache avoids
    // re-reads), only a rider that a write the task gets anyway carries
    const active = pass(linked(), session({ updatedAt: NOW - 10_000 }), [say('thinking', NOW - 10_000)]);
    expect(own(active.actions)).toEqual([]);
    expect(riders(active.actions)).toHaveLength(1);
    expect(readStatus(active.task.fields).ledger[SEEN]).toBeUndefined();
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

  describe('an approved approval finishes the job (issue 12 item 2)', () => {
    const gated = () => pass(linked(), session(), [say('TASK_UPDATE {"status":"done","summary":"ok"}')], { board: board({ requireApprovalForDone: true }) }).task;
    const blocked = (t: Task) => readStatus(t.fields).conditions.find((c) => c.type === 'Blocked');
    const again = (t: Task, approvals: Approval[]) => {
      const base = snapshot(t, { gateway: gateway([session()]), board: board({ requireApprovalForDone: true }), approvals });
      const w = r.wants!(t, base.status, base);
      const result = r.plan({ ...base, gateway: gateway([session()], { history: w?.history ? { [KEY]: [say('TASK_UPDATE {"status":"done","summary":"ok"}')] } : {} }) });
      return { wanted: w, actions: result.actions, task: applyActions(t, result.actions) };
    };

    it('a task waiting on the gate asks for the resolved approvals; a task not waiting does not', () => {
      expect(again(gated(), []).wanted).toMatchObject({ resolvedApprovals: true });
      const base = snapshot(linked(), { gateway: gateway([session()]) });
      expect(r.wants!(linked(), base.status, base)?.resolvedApprovals).toBeUndefined();
    });

    it('approved: review → done, Blocked=False/Approved, one comment naming the approval; then nothing', () => {
      const out = again(gated(), [approval('approved')]);
      expect(out.task.status).toBe('done');
      expect(blocked(out.task)).toMatchObject({ status: 'False', reason: 'Approved' });
      expect(readStatus(out.task.fields).conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect(comments(out.actions)).toEqual([expect.stringMatching(/Approval ap1 approved\. Status: review → done\./)]);
      expect(again(out.task, [approval('approved')]).actions).toEqual([]);
    });

    it('pending: stays in review, nothing written', () => {
      expect(again(gated(), [approval('pending')]).actions).toEqual([]);
    });

    it('rejected: stays in review with Blocked=True/ApprovalRejected and one comment; a new pending approval waits again', () => {
      const out = again(gated(), [approval('rejected')]);
      expect(out.task.status).toBe('review');
      expect(blocked(out.task)).toMatchObject({ status: 'True', reason: 'ApprovalRejected' });
      expect(comments(out.actions)).toEqual([expect.stringMatching(/Approval ap1 rejected: the task stays in review/)]);
      expect(again(out.task, [approval('rejected')]).actions).toEqual([]);
      const retry = again(out.task, [approval('rejected'), approval('pending', NOW, 'ap2')]);
      expect(blocked(retry.task)).toMatchObject({ status: 'True', reason: 'DoneAwaitingApproval' });
      expect(again(retry.task, [approval('rejected'), approval('approved', NOW + MIN, 'ap2')]).task.status).toBe('done');
    });
  });
});
