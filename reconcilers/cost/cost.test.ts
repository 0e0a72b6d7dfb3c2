import { describe, expect, it } from 'vitest';
import { actionSchema, readStatus, type Session, type SessionUsage, type Task, type TaskPatchAction } from '../../src/model/index.js';
import { MIN, NOW, applyActions, gateway, snapshot, task } from '../../test/support/fixtures.js';
import { FINAL, NAME, SEEN, STALE_REQUEUE_MS, costReconciler } from './index.js';

const BOUND = new Set(['mc_conditions', 'mc_actual_cost_usd', 'mc_session_key']);
const ROOT = 'agent:main:mc-task-1';
const CHILD = 'agent:main:subagent:c1';
const GRANDCHILD = 'agent:main:subagent:g1';

const running = (key: string, at = NOW - MIN, over: Partial<Session> = {}): Session => ({ key, status: 'running', hasActiveRun: true, updatedAt: at, ...over });
const ended = (key: string, at = NOW - MIN, over: Partial<Session> = {}): Session => ({ key, status: 'done', hasActiveRun: false, updatedAt: at, endedAt: at, ...over });
const usage = (key: string, totalCostUsd: number | null, fresh = true): SessionUsage => ({ key, totalCostUsd, inputTokens: null, outputTokens: null, fresh });

function linked(over: Partial<Task> = {}, fields: Record<string, unknown> = {}): Task {
  return task({ ...over, fields: { mc_session_key: ROOT, mc_actual_cost_usd: 0, ...fields } });
}

/**
 * One reconcile the way the runtime does it: wants() on the listed row, `sessions.usage` fetched only for
 * the keys asked for (counted), then plan. `answers` is what the gateway would answer per key.
 */
function reconcile(t: Task, sessions: Session[], answers: Record<string, SessionUsage | null>, opts: { now?: number; synced?: boolean; bound?: Set<string> } = {}) {
  const gw = gateway(sessions, { synced: opts.synced ?? true });
  const base = snapshot(t, { gateway: gw, boundFields: opts.bound ?? BOUND, now: opts.now ?? NOW });
  const wants = costReconciler.wants!(t, base.status, base);
  const fetched = new Map<string, SessionUsage>();
  for (const k of wants?.usage ?? []) {
    const answer = answers[k];
    if (answer) fetched.set(k, answer);
  }
  const result = costReconciler.plan({ ...base, gateway: { ...gw, usage: fetched } });
  for (const a of result.actions) expect(actionSchema.safeParse(a).success).toBe(true);
  return { wants, calls: wants?.usage?.length ?? 0, ...result, next: applyActions(t, result.actions, opts.now ?? NOW) };
}

const cost = (t: Task) => t.fields['mc_actual_cost_usd'];
const ledger = (t: Task) => readStatus(t.fields).ledger;
const comments = (actions: { change?: { comment?: string } }[]) => actions.map((a) => a.change?.comment).filter(Boolean);

describe('cost planner', () => {
  it.each([
    ['no session key', task({ fields: { mc_actual_cost_usd: 0 } }), {}],
    ['cost field not bound', linked(), { bound: new Set(['mc_conditions']) }],
    ['status field not bound (no ledger, every pass would call)', linked(), { bound: new Set(['mc_actual_cost_usd']) }],
    ['gateway not synced', linked(), { synced: false }],
  ])('%s: asks for nothing and plans nothing', (_, t, opts) => {
    const r = reconcile(t, [running(ROOT)], { [ROOT]: usage(ROOT, 1) }, opts);
    expect(r.calls).toBe(0);
    expect(r.actions).toEqual([]);
  });

  it('sums the session and its spawned children, grandchildren included, from sessions.usage', () => {
    const sessions = [running(ROOT), running(CHILD, NOW - MIN, { spawnedBy: ROOT }), ended(GRANDCHILD, NOW - 2 * MIN, { spawnedBy: CHILD }), running('agent:main:other')];
    const r = reconcile(linked(), sessions, {
      [ROOT]: usage(ROOT, 0.02),
      [CHILD]: usage(CHILD, 0.0125),
      [GRANDCHILD]: usage(GRANDCHILD, 0.004),
      'agent:main:other': usage('agent:main:other', 5),
    });
    expect(new Set(r.wants?.usage)).toEqual(new Set([ROOT, CHILD, GRANDCHILD]));
    expect(cost(r.next)).toBeCloseTo(0.0365, 9);
    expect(r.actions[0]?.reconciler).toBe(NAME);
    expect(comments(r.actions as TaskPatchAction[])).toEqual([]);
  });

  it('while running, a change under one cent is not written and the read is not recorded', () => {
    const r = reconcile(linked({}, { mc_actual_cost_usd: 0.1 }), [running(ROOT)], { [ROOT]: usage(ROOT, 0.105) });
    expect(r.calls).toBe(1);
    expect(r.actions).toEqual([]);
  });

  it('a steady pass over an unchanged tree asks the gateway for nothing', () => {
    const sessions = [running(ROOT), running(CHILD, NOW - MIN, { spawnedBy: ROOT })];
    const answers = { [ROOT]: usage(ROOT, 0.5), [CHILD]: usage(CHILD, 0.25) };
    const first = reconcile(linked(), sessions, answers);
    expect(cost(first.next)).toBe(0.75);
    const second = reconcile(first.next, sessions, answers);
    expect(second.calls).toBe(0);
    expect(second.actions).toEqual([]);
  });

  it('a new child or a moved row asks again; cumulative totals are never added to the recorded value', () => {
    const first = reconcile(linked(), [running(ROOT)], { [ROOT]: usage(ROOT, 0.5) });
    // the same cumulative total on a later poll: the value stays, it is not summed again
    const samePoll = reconcile(first.next, [running(ROOT, NOW)], { [ROOT]: usage(ROOT, 0.5) });
    expect(samePoll.calls).toBe(1);
    expect(samePoll.actions).toEqual([]);
    const withChild = reconcile(first.next, [running(ROOT), running(CHILD, NOW, { spawnedBy: ROOT })], {
      [ROOT]: usage(ROOT, 0.5),
      [CHILD]: usage(CHILD, 0.3),
    });
    expect(withChild.calls).toBe(2);
    expect(cost(withChild.next)).toBe(0.8);
  });

  it('stale usage is not written: requeue shortly, and give up at this version once the tree has been quiet', () => {
    const fresh = reconcile(linked(), [running(ROOT)], { [ROOT]: usage(ROOT, 0.4, false) });
    expect(fresh.actions).toEqual([]);
    expect(fresh.requeueAfterMs).toBe(STALE_REQUEUE_MS);

    const quiet = [ended(ROOT, NOW - 30 * MIN)];
    const gaveUp = reconcile(linked(), quiet, { [ROOT]: usage(ROOT, null, false) });
    expect(cost(gaveUp.next)).toBe(0);
    expect(ledger(gaveUp.next)[SEEN]?.s).toBe('failed');
    const after = reconcile(gaveUp.next, quiet, { [ROOT]: usage(ROOT, null, false) });
    expect(after.calls).toBe(0);
    expect(after.actions).toEqual([]);
    // a new run (the row moved) asks again
    const moved = reconcile(gaveUp.next, [running(ROOT, NOW)], { [ROOT]: usage(ROOT, 0.2) });
    expect(moved.calls).toBe(1);
    expect(cost(moved.next)).toBe(0.2);
  });

  it('a gateway without sessions.usage is asked once per version, not every pass', () => {
    const sessions = [ended(ROOT)];
    const first = reconcile(linked(), sessions, { [ROOT]: null });
    expect(first.calls).toBe(1);
    expect(ledger(first.next)[SEEN]?.s).toBe('failed');
    expect(reconcile(first.next, sessions, { [ROOT]: null }).calls).toBe(0);
  });

  it('an idle tree is final whatever the task status: read once, a restarted controller does not ask again', () => {
    const sessions = [ended(ROOT)];
    const first = reconcile(linked({}, { mc_actual_cost_usd: 0.3 }), sessions, { [ROOT]: usage(ROOT, 0.303) });
    expect(cost(first.next)).toBe(0.303);
    expect(ledger(first.next)[FINAL]?.s).toBe('done');
    const again = reconcile(first.next, sessions, { [ROOT]: usage(ROOT, 0.303) });
    expect(again.calls).toBe(0);
    expect(again.actions).toEqual([]);
  });

  it('finalises when the run finishes: the exact value even under a cent, one comment, then nothing while the tree is unchanged', () => {
    const sessions = [ended(ROOT), ended(CHILD, NOW - MIN, { spawnedBy: ROOT })];
    const answers = { [ROOT]: usage(ROOT, 0.3), [CHILD]: usage(CHILD, 0.0042) };
    const done = linked({ status: 'done' }, { mc_actual_cost_usd: 0.3 });
    const r = reconcile(done, sessions, answers);
    expect(cost(r.next)).toBe(0.3042);
    expect(ledger(r.next)[FINAL]?.s).toBe('done');
    const c = comments(r.actions as TaskPatchAction[]);
    expect(c).toHaveLength(1);
    expect(c[0]).toMatch(/^\[mc-controller\] cost: final \$0\.3042 \(session \+ 1 spawned/);
    const later = reconcile(r.next, sessions, { [ROOT]: usage(ROOT, 9) });
    expect(later.calls).toBe(0);
    expect(later.actions).toEqual([]);
  });

  it('a done task whose session still runs is not final yet', () => {
    const r = reconcile(linked({ status: 'done' }), [running(ROOT)], { [ROOT]: usage(ROOT, 0.5) });
    expect(cost(r.next)).toBe(0.5);
    expect(ledger(r.next)[FINAL]).toBeUndefined();
  });

  // Issue 12 item 4: on a default board a finished run waits in review; its cost must not wait for a human.
  it('a finished run whose task waits in review gets its final sub-cent cost now; moving the task to done later asks nothing', () => {
    const sessions = [ended(ROOT)];
    const review = reconcile(linked({ status: 'review' }), sessions, { [ROOT]: usage(ROOT, 0.0042) });
    expect(cost(review.next)).toBe(0.0042);
    expect(ledger(review.next)[FINAL]?.s).toBe('done');
    expect(comments(review.actions as TaskPatchAction[])).toHaveLength(1);
    const done = reconcile({ ...review.next, status: 'done' }, sessions, { [ROOT]: usage(ROOT, 0.0042) });
    expect(done.calls).toBe(0);
    expect(done.actions).toEqual([]);
  });

  it('a new run after the final is counted again and finalised again when it ends', () => {
    const final = reconcile(linked({ status: 'review' }), [ended(ROOT)], { [ROOT]: usage(ROOT, 0.2) }).next;
    const rerun = reconcile({ ...final, status: 'in_progress' }, [running(ROOT, NOW)], { [ROOT]: usage(ROOT, 0.6) });
    expect(rerun.calls).toBe(1);
    expect(cost(rerun.next)).toBe(0.6);
    const ends = reconcile(rerun.next, [ended(ROOT, NOW + MIN)], { [ROOT]: usage(ROOT, 0.6042) });
    expect(cost(ends.next)).toBe(0.6042);
    expect(comments(ends.actions as TaskPatchAction[])[0]).toMatch(/cost: final \$0\.6042/);
  });

  it('a final recorded before finals carried the tree version stands while the task is done', () => {
    const old = linked({ status: 'done' }, { mc_conditions: { observedHash: '', conditions: [], ledger: { [FINAL]: { s: 'done', at: NOW - MIN } } } });
    expect(reconcile(old, [ended(ROOT, NOW)], { [ROOT]: usage(ROOT, 1) }).calls).toBe(0);
  });
});
