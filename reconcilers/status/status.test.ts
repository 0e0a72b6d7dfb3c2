import { describe, expect, it } from 'vitest';
import { readStatus, type Task } from '../../src/model/index.js';
import { applyActions, snapshot, task, withCondition } from '../../test/support/fixtures.js';
import { plan } from './index.js';

const BOUND = new Set(['mc_conditions', 'mc_status']);
const gated = (over: Partial<Task> = {}): Task => ({ ...withCondition(task(), 'Blocked', 'True', 'DoneAwaitingApproval'), ...over });
const pass = (t: Task, bound = BOUND) => {
  const actions = plan(snapshot(t, { boundFields: bound })).actions;
  return { actions, next: applyActions(t, actions) };
};

describe('status reconciler (issue 12 items 3, 7)', () => {
  it('a task someone else moved to done loses its abnormal conditions; Ready follows; then nothing', () => {
    const t = gated({ status: 'done' });
    const first = pass(t);
    expect(first.actions).toHaveLength(1);
    const conds = readStatus(first.next.fields).conditions;
    expect(conds.find((x) => x.type === 'Blocked')).toMatchObject({ status: 'False', reason: 'TaskDone' });
    expect(conds.find((x) => x.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Reconciled' });
    expect(first.next.fields.mc_status).toBe('Done');
    expect(pass(first.next).actions).toEqual([]);
  });

  it('writes a missing line once; an unmanaged task or an unbound field gets nothing', () => {
    const t = gated({ status: 'review' });
    const first = pass(t);
    expect(first.next.fields.mc_status).toBe('Waiting for approval of done');
    expect(pass(first.next).actions).toEqual([]);
    expect(pass(task()).actions).toEqual([]);
    expect(pass(t, new Set(['mc_conditions'])).actions).toEqual([]);
  });

  it('a review task keeps its Blocked condition: only done settles', () => {
    const first = pass(gated({ status: 'review' }));
    expect(readStatus(first.next.fields).conditions.find((x) => x.type === 'Blocked')?.status).toBe('True');
  });
});
