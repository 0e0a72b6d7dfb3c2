import { describe, expect, it } from 'vitest';
import { openingPrompt, readStatus, type Action, type ChatMessage, type Session, type Task, type TaskPatchAction } from '../../src/model/index.js';
import { MIN, NOW, applyActions, gateway, snapshot, task, withCondition } from '../../test/support/fixtures.js';
import { plan as watchdogPlan } from '../watchdog/plan.js';
import { linkAction } from './link.js';
import { mentionedTaskIds, SCANNED, sessionLinkReconciler as r } from './plan.js';

const patches = (actions: Action[]) => actions.filter((a): a is TaskPatchAction => a.type === 'task.patch');
const comments = (actions: Action[]) => patches(actions).flatMap((a) => (a.change.comment ? [a.change.comment] : []));
const ID = '7d2c0a4e-1111-4222-8333-944445555666';
const inbox = (over: Partial<Task> = {}) => task({ id: ID, status: 'inbox', inProgressAt: null, ...over });

/** One pass like the controller runs it: wants → the openings the source would read → plan. */
function pass(t: Task, sessions: Session[], history: Record<string, ChatMessage[]> = {}, now = NOW, linked: string[] = []) {
  const base = snapshot(t, { gateway: gateway(sessions), now, linkedSessions: new Set(linked) });
  const w = r.wants!(t, base.status, base);
  const fetched = Object.fromEntries((w?.openings ?? []).map((k) => [k, openingPrompt(history[k] ?? [])]));
  const result = r.plan({ ...base, gateway: gateway(sessions, { openings: fetched }) });
  return { wanted: w, actions: result.actions, task: applyActions(t, result.actions) };
}

describe('session-link reconciler (auto-adoption)', () => {
  it('links by label = task id without reading history; inbox → in_progress; one comment; then nothing', () => {
    const s: Session = { key: 'agent:main:subagent:s1', label: ID, status: 'running', createdAt: NOW - MIN, updatedAt: NOW };
    const first = pass(inbox(), [s]);
    expect(first.wanted).toBeUndefined();
    expect(first.task.fields.mc_session_key).toBe(s.key);
    expect(first.task.status).toBe('in_progress');
    expect(comments(first.actions)).toHaveLength(1);
    expect(comments(first.actions)[0]).toMatch(/label is the task id/);
    expect(readStatus(first.task.fields).conditions.find((c) => c.type === 'SessionLinked')).toMatchObject({ status: 'True', message: `linked to ${s.key}` });
    // the watchdog agrees with what the link wrote: no flip, no comment on the next pass
    expect(watchdogPlan(snapshot(first.task, { gateway: gateway([s]) })).actions).toEqual([]);
    expect(pass(first.task, [s]).actions).toEqual([]);
  });

  it('links by "MC Task: <id>" or "taskId=<id>" in the first user message, reading only recent candidates', () => {
    const recent: Session = { key: 'agent:main:subagent:s2', label: 'report-7d2c0a4e', status: 'running', createdAt: NOW - 5 * MIN, updatedAt: NOW };
    const old: Session = { key: 'agent:main:main', status: 'running', createdAt: NOW - 600 * MIN, updatedAt: NOW };
    const other: Session = { key: 'agent:main:subagent:s3', label: 'aaaaaaaa-1111-4222-8333-944445555666', status: 'running', createdAt: NOW - MIN, updatedAt: NOW };
    const history = { [recent.key]: [{ role: 'user', text: `[Subagent Context] …\nWrite it.\n\nMC Task: ${ID}` }] };
    const out = pass(inbox(), [recent, old, other], history);
    expect(out.wanted).toEqual({ openings: [recent.key] });
    expect(out.task.fields.mc_session_key).toBe(recent.key);
    expect(comments(out.actions)[0]).toMatch(/first message names this task/);
    const byTaskId = pass(inbox(), [recent], { [recent.key]: [{ role: 'user', text: `objective taskId=${ID} go` }] });
    expect(byTaskId.task.fields.mc_session_key).toBe(recent.key);
  });

  it('a recent session another task is linked to already is not read, whatever its opening says', () => {
    const taken: Session = { key: 'agent:main:subagent:taken', status: 'running', createdAt: NOW - 2 * MIN, updatedAt: NOW };
    const free: Session = { key: 'agent:main:subagent:free', status: 'running', createdAt: NOW - 2 * MIN, updatedAt: NOW };
    const names = { [taken.key]: [{ role: 'user', text: `MC Task: ${ID}` }], [free.key]: [{ role: 'user', text: 'unrelated' }] };
    const out = pass(inbox(), [taken, free], names, NOW, [taken.key]);
    expect(out.wanted).toEqual({ openings: [free.key] });
    expect(out.task.fields.mc_session_key).toBeUndefined();
    // the same board without that link: the session is a candidate and adopted
    expect(pass(inbox(), [taken, free], names).task.fields.mc_session_key).toBe(taken.key);
  });

  it('a message naming another task, or an assistant message, does not link', () => {
    const s: Session = { key: 'agent:main:subagent:s4', status: 'running', createdAt: NOW - MIN, updatedAt: NOW };
    expect(pass(inbox(), [s], { [s.key]: [{ role: 'user', text: 'MC Task: something-else' }] }).actions).toEqual([]);
    expect(pass(inbox(), [s], { [s.key]: [{ role: 'user', text: 'hello' }, { role: 'assistant', text: `MC Task: ${ID}` }] }).actions).toEqual([]);
  });

  it('never steals a linked task, never adopts into a done task', () => {
    const s: Session = { key: 'agent:main:subagent:s5', label: ID, status: 'running', createdAt: NOW - MIN, updatedAt: NOW };
    const linked = pass(inbox({ status: 'in_progress', fields: { mc_session_key: 'agent:main:subagent:mine' } }), [s]);
    expect(linked.wanted).toBeUndefined();
    expect(linked.actions).toEqual([]);
    expect(pass(inbox({ status: 'done' }), [s]).actions).toEqual([]);
  });

  it('a task linked by the marker in the spawning session moves to the sub-agent it spawned with label = task id, once', () => {
    const parent: Session = { key: 'agent:main:orchestrator', status: 'running', createdAt: NOW - MIN, updatedAt: NOW };
    const byMarker = pass(inbox(), [parent], { [parent.key]: [{ role: 'user', text: `MOCK_SPAWN label=${ID} task=…\nMC Task: ${ID}` }] });
    expect(byMarker.task.fields.mc_session_key).toBe(parent.key);
    const child: Session = { key: 'agent:main:subagent:c1', label: ID, spawnedBy: parent.key, status: 'running', createdAt: NOW, updatedAt: NOW };
    const moved = pass(byMarker.task, [parent, child]);
    expect(moved.task.fields.mc_session_key).toBe(child.key);
    expect(comments(moved.actions)[0]).toMatch(/spawned for this task/);
    expect(pass(moved.task, [parent, child]).actions).toEqual([]);
    // a child labelled for another task, or an unrelated labelled session, never takes a linked task
    const other: Session = { ...child, key: 'agent:main:subagent:c2', label: 'aaaaaaaa-1111-4222-8333-944445555666' };
    expect(pass(byMarker.task, [parent, other]).actions).toEqual([]);
  });

  it('adopting into a review task keeps review', () => {
    const s: Session = { key: 'agent:main:subagent:s6', label: ID, status: 'running', createdAt: NOW - MIN, updatedAt: NOW };
    const out = pass(inbox({ status: 'review' }), [s]);
    expect(out.task.status).toBe('review');
    expect(out.task.fields.mc_session_key).toBe(s.key);
  });

  it('records the examined candidates once they are quiet; a restart then reads only sessions that changed since', () => {
    const a: Session = { key: 'agent:main:a', status: 'done', createdAt: NOW - 30 * MIN, updatedAt: NOW - 20 * MIN };
    const b: Session = { key: 'agent:main:b', status: 'running', createdAt: NOW - 10 * MIN, updatedAt: NOW - 10_000 };
    const history = { [a.key]: [{ role: 'user', text: 'MC Task: some-other-task' }], [b.key]: [{ role: 'user', text: 'hello' }] };
    // b changed 10 s ago: no record yet (one write per quiet period, not one per pass)
    const busy = pass(inbox(), [a, b], history);
    expect(busy.wanted).toEqual({ openings: [a.key, b.key] });
    expect(busy.actions).toEqual([]);
    // a minute later everything is quiet: one ledger-only write, no comment
    const later = NOW + 2 * MIN;
    const quiet = pass(inbox(), [a, b], history, later);
    expect(patches(quiet.actions)).toHaveLength(1);
    expect(comments(quiet.actions)).toEqual([]);
    expect(readStatus(quiet.task.fields).ledger[SCANNED]).toMatchObject({ n: b.updatedAt });
    // a fresh process: nothing to read, nothing to write
    const restarted = pass(quiet.task, [a, b], history, later);
    expect(restarted.wanted).toBeUndefined();
    expect(restarted.actions).toEqual([]);
    // a new session naming the task is read (only it) and linked
    const c: Session = { key: 'agent:main:c', status: 'running', createdAt: later, updatedAt: later };
    const linked = pass(quiet.task, [a, b, c], { ...history, [c.key]: [{ role: 'user', text: `MC Task: ${ID}` }] }, later);
    expect(linked.wanted).toEqual({ openings: [c.key] });
    expect(linked.task.fields.mc_session_key).toBe(c.key);
  });

  it('a candidate whose opening could not be read keeps the record where it was', () => {
    const a: Session = { key: 'agent:main:a', status: 'done', createdAt: NOW - 30 * MIN, updatedAt: NOW - 20 * MIN };
    const base = snapshot(inbox(), { gateway: gateway([a]) });
    expect(r.plan({ ...base, gateway: gateway([a], { openings: {} }) }).actions).toEqual([]);
  });

  it('a push about an unlinked session names the tasks worth a look: the labelled one, or every unlinked one for a recent session', () => {
    const other = inbox({ id: 'aaaaaaaa-1111-4222-8333-944445555666' });
    const linkedTask = inbox({ id: 'bbbbbbbb-1111-4222-8333-944445555666', fields: { mc_session_key: 'agent:main:x' } });
    const tasks = [inbox(), other, linkedTask, inbox({ id: 'cccccccc-1111-4222-8333-944445555666', status: 'done' })];
    const settings = snapshot(inbox()).settings;
    const labelled: Session = { key: 'agent:main:subagent:l', label: ID, createdAt: NOW };
    expect(r.affectedBy!(labelled, tasks, NOW, settings).map((t) => t.id)).toEqual([ID]);
    const marker: Session = { key: 'agent:main:subagent:m', createdAt: NOW };
    expect(r.affectedBy!(marker, tasks, NOW, settings).map((t) => t.id)).toEqual([ID, other.id]);
    expect(r.affectedBy!({ ...marker, createdAt: NOW - 600 * MIN }, tasks, NOW, settings)).toEqual([]);
  });

  it('mentionedTaskIds finds both forms', () => {
    expect(mentionedTaskIds(`MC Task: ${ID}\ntaskId="abc-123"`)).toEqual([ID, 'abc-123']);
  });
});

describe('linkAction (shared with `task link`)', () => {
  it('clears the missing-key state with one comment, and a second identical link is null', () => {
    let t = withCondition(task({ status: 'review', fields: { mc_last_error: 'missing_session_key', mc_retry_count: 2 } }), 'SessionLinked', 'False', 'MissingSessionKey');
    t = withCondition(t, 'SessionLost', 'True', 'SessionMissing');
    const a = linkAction({ reconciler: 'cli', task: t, status: readStatus(t.fields), sessionKey: 'agent:main:x', targetStatus: 'in_progress', how: 'by hand' })!;
    expect(a.change.comment).toMatch(/Session agent:main:x linked by hand\. Status review → in_progress\. Cleared: flag missing_session_key, retry count, SessionLost\./);
    const next = applyActions(t, [a]);
    expect(next.fields).toMatchObject({ mc_session_key: 'agent:main:x', mc_last_error: null, mc_retry_count: 0 });
    expect(readStatus(next.fields).conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(linkAction({ reconciler: 'cli', task: next, status: readStatus(next.fields), sessionKey: 'agent:main:x', targetStatus: 'in_progress', how: 'by hand' })).toBeNull();
  });

  it('keeps a free-text error (not a watchdog flag)', () => {
    const t = task({ fields: { mc_last_error: 'disk full' } });
    const a = linkAction({ reconciler: 'cli', task: t, status: readStatus(t.fields), sessionKey: 'k', how: 'x' })!;
    expect(a.change.fields).not.toHaveProperty('mc_last_error');
  });
});
