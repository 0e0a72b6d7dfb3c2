import { describe, expect, it } from 'vitest';
import {
  CONDITIONS_FIELD,
  OWN_FIELDS,
  emptyStatus,
  readStatus,
  type ControllerStatus,
  type LedgerEntry,
  type Task,
  type TaskChange,
} from '../model/index.js';
import { inputsHash, mergeChanges, summaryOf, withoutLoneRiders, type MergedWrite } from './merge.js';
import type { Action } from '../model/index.js';

const NOW = Date.UTC(2024, 4, 1, 10, 0, 0);
const LATER = NOW + 3_600_000;

function task(over: Partial<Task> = {}): Task {
  return {
    id: 't1',
    boardId: 'b1',
    title: 'Refactor billing',
    description: 'Split the export job',
    status: 'in_progress',
    priority: 'medium',
    assignedAgentId: null,
    inProgressAt: NOW - 60_000,
    createdAt: NOW - 3_600_000,
    updatedAt: NOW - 60_000,
    fields: { mc_progress: 40, mc_session_key: 'agent:a:1', mc_last_error: null, mc_retry_count: 0, mc_delivered: false },
    ...over,
  };
}

/** What Mission Control would hand back after the PATCH: merged fields, JSON round trip. */
function applyWrite(t: Task, w: MergedWrite): Task {
  const fields = JSON.parse(JSON.stringify({ ...t.fields, ...w.fields })) as Record<string, unknown>;
  return { ...t, status: w.status ?? t.status, fields, updatedAt: t.updatedAt + 1 };
}

const merge = (t: Task, changes: TaskChange[], opts = { conditionsBound: true }, now = NOW) =>
  mergeChanges(t, readStatus(t.fields), changes, now, opts);

const entry = (at: number, s: LedgerEntry['s'] = 'done', ext?: string): LedgerEntry => ({ s, at, ...(ext ? { ext } : {}) });

describe('mergeChanges: no-ops', () => {
  it.each<[string, TaskChange[]]>([
    ['no changes', []],
    ['empty change', [{}]],
    ['same status', [{ status: 'in_progress' }]],
    ['same field values', [{ fields: { mc_progress: 40, mc_session_key: 'agent:a:1' } }]],
    ['null for an unset field', [{ fields: { mc_last_error: null } }]],
    ['null for a missing field', [{ fields: { mc_output_summary: null } }]],
    ['removing an absent ledger entry', [{ ledger: { nope: null } }]],
    ['empty comment', [{ comment: '' }]],
    ['mc_conditions passed as a plain field is ignored', [{ fields: { [CONDITIONS_FIELD]: { observedHash: 'x' } } }]],
  ])('%s → null', (_name, changes) => {
    expect(merge(task(), changes)).toBeNull();
  });

  it('equal json values with different key order are not a change', () => {
    const t = task({ fields: { ...task().fields, mc_meta: { a: 1, b: [1, 2] } } });
    expect(merge(t, [{ fields: { mc_meta: { b: [1, 2], a: 1 } } }])).toBeNull();
  });
});

describe('mergeChanges: writes', () => {
  it('status diff', () => {
    const w = merge(task(), [{ status: 'review' }])!;
    expect(w.status).toBe('review');
    expect(w.fields).toEqual({});
    expect(w.diff).toEqual([{ field: 'status', from: 'in_progress', to: 'review' }]);
  });

  it('writes only the fields that changed', () => {
    const w = merge(task(), [{ fields: { mc_progress: 40, mc_session_key: 'agent:a:1', mc_output_summary: 'done it', mc_retry_count: 1 } }])!;
    expect(w.fields).toEqual({ mc_output_summary: 'done it', mc_retry_count: 1 });
    expect(w.status).toBeUndefined();
    expect(w.diff).toEqual([
      { field: 'mc_output_summary', from: null, to: 'done it' },
      { field: 'mc_retry_count', from: 0, to: 1 },
    ]);
  });

  it('null deletes a set value', () => {
    const w = merge(task(), [{ fields: { mc_session_key: null } }])!;
    expect(w.fields).toEqual({ mc_session_key: null });
    expect(w.diff).toEqual([{ field: 'mc_session_key', from: 'agent:a:1', to: null }]);
  });

  it('later changes win on the same field and status', () => {
    const w = merge(task(), [
      { status: 'review', fields: { mc_progress: 60 } },
      { status: 'inbox', fields: { mc_progress: 80 } },
    ])!;
    expect(w.status).toBe('inbox');
    expect(w.fields).toEqual({ mc_progress: 80 });
  });

  it('a later change back to the current value cancels the write', () => {
    expect(merge(task(), [{ fields: { mc_progress: 60 } }, { fields: { mc_progress: 40 } }])).toBeNull();
  });

  it('joins comments of all changes, in order', () => {
    const w = merge(task(), [{ comment: 'first' }, { fields: { mc_progress: 41 } }, { comment: 'second' }])!;
    expect(w.comment).toBe('first\n\nsecond');
    expect(w.fields).toEqual({ mc_progress: 41 });
  });

  it('a comment alone is a write', () => {
    const w = merge(task(), [{ comment: 'hello' }])!;
    expect(w).toMatchObject({ comment: 'hello', fields: {}, diff: [] });
  });
});

describe('mergeChanges: conditions and ledger', () => {
  it('writes conditions plus the Ready summary into mc_conditions', () => {
    const w = merge(task(), [{ conditions: [{ type: 'Stalled', status: 'True', reason: 'NoActivity', message: 'idle 61m' }] }])!;
    const written = w.fields[CONDITIONS_FIELD] as ControllerStatus;
    expect(written).toEqual(w.nextStatus);
    expect(written.conditions.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Stalled', 'True', 'NoActivity'],
      ['Ready', 'False', 'NoActivity'],
    ]);
    expect(written.conditions.every((c) => c.lastTransitionTime === new Date(NOW).toISOString())).toBe(true);
    expect(written.observedHash).toBe(inputsHash(task(), 'in_progress', task().fields));
    expect(w.diff).toEqual([{ field: CONDITIONS_FIELD, from: '(none)', to: 'Stalled=True(NoActivity) Ready=False(NoActivity)' }]);
  });

  it('Ready turns True when the abnormal condition clears, keeping the other transition times', () => {
    const first = merge(task(), [{ conditions: [{ type: 'Stalled', status: 'True', reason: 'NoActivity' }] }])!;
    const t2 = applyWrite(task(), first);
    const w = merge(t2, [{ conditions: [{ type: 'Stalled', status: 'False', reason: 'Active' }] }], undefined, LATER)!;
    const s = w.nextStatus;
    expect(s.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Reconciled', lastTransitionTime: new Date(LATER).toISOString() });
    expect(summaryOf(s)).toBe('Stalled=False(Active)');
  });

  it('merges ledger entries and removes with null', () => {
    const t = task({ fields: { ...task().fields, [CONDITIONS_FIELD]: { observedHash: '', conditions: [], ledger: { old: entry(1), keep: entry(2) } } } });
    const w = merge(t, [{ ledger: { old: null, fresh: entry(3, 'pending') } }])!;
    expect((w.fields[CONDITIONS_FIELD] as ControllerStatus).ledger).toEqual({ keep: entry(2), fresh: entry(3, 'pending') });
  });

  it('an identical ledger entry is not a change', () => {
    const ledger = { k: entry(5, 'done', 'm1') };
    const t = task();
    const t2 = applyWrite(t, merge(t, [{ ledger }])!);
    expect(merge(t2, [{ ledger: { k: entry(5, 'done', 'm1') } }])).toBeNull();
  });

  it('prunes the ledger to the 100 newest entries', () => {
    const ledger: Record<string, LedgerEntry> = {};
    for (let i = 0; i < 100; i++) ledger[`k${i}`] = entry(1_000 + i);
    const t = task({ fields: { ...task().fields, [CONDITIONS_FIELD]: { observedHash: '', conditions: [], ledger } } });
    const w = merge(t, [{ ledger: { newest: entry(5_000), another: entry(5_001) } }])!;
    const kept = (w.fields[CONDITIONS_FIELD] as ControllerStatus).ledger;
    expect(Object.keys(kept)).toHaveLength(100);
    expect(kept).toHaveProperty('newest');
    expect(kept).toHaveProperty('another');
    expect(kept).not.toHaveProperty('k0');
    expect(kept).not.toHaveProperty('k1');
    expect(kept).toHaveProperty('k2');
  });

  // With 100 newer entries stored, re-asserting an entry older than all of them must not rewrite mc_conditions.
  it('re-asserting an entry that pruning drops again writes nothing', () => {
    const ledger: Record<string, LedgerEntry> = {};
    for (let i = 0; i < 100; i++) ledger[`k${i}`] = entry(1_000 + i);
    const base = task();
    // A stored status as the controller writes it: with the task's current inputs hash.
    const t = task({ fields: { ...base.fields, [CONDITIONS_FIELD]: { observedHash: inputsHash(base, base.status, base.fields), conditions: [], ledger } } });
    const w = merge(t, [{ ledger: { ancient: entry(1) } }]);
    if (w) expect((w.fields[CONDITIONS_FIELD] as ControllerStatus).ledger).toEqual(ledger); // identical to what is stored
    expect(w).toBeNull();
  });

  it('conditionsBound=false never writes mc_conditions', () => {
    const changes: TaskChange[] = [
      { conditions: [{ type: 'Stalled', status: 'True', reason: 'NoActivity' }], ledger: { k: entry(1) } },
    ];
    expect(merge(task(), changes, { conditionsBound: false })).toBeNull();
    const w = merge(task(), [...changes, { fields: { mc_progress: 50 } }], { conditionsBound: false })!;
    expect(w.fields).toEqual({ mc_progress: 50 });
    expect(w.diff.map((d) => d.field)).toEqual(['mc_progress']);
    // the planned status is still reported, so the caller knows what it would have been
    expect(w.nextStatus.conditions.map((c) => c.type)).toEqual(['Stalled', 'Ready']);
  });

  it('does not mutate the current status or the task', () => {
    const t = task({ fields: { ...task().fields, [CONDITIONS_FIELD]: { observedHash: '', conditions: [], ledger: { a: entry(1) } } } });
    const snapshot = structuredClone(t);
    const current = readStatus(t.fields);
    const currentCopy = structuredClone(current);
    mergeChanges(t, current, [{ ledger: { a: null, b: entry(2) }, conditions: [{ type: 'Failed', status: 'True', reason: 'Boom' }], fields: { mc_progress: 1 } }], NOW, {
      conditionsBound: true,
    });
    expect(t).toEqual(snapshot);
    expect(current).toEqual(currentCopy);
  });
});

describe('mergeChanges: applying the write and merging again writes nothing', () => {
  const cases: [string, TaskChange[]][] = [
    ['status', [{ status: 'review' }]],
    ['fields', [{ fields: { mc_progress: 90, mc_output_summary: 'ok' } }]],
    ['null delete', [{ fields: { mc_session_key: null } }]],
    ['conditions', [{ conditions: [{ type: 'Stalled', status: 'True', reason: 'NoActivity', message: 'idle' }] }]],
    ['ledger', [{ ledger: { post1: entry(NOW, 'done', 'm1') } }]],
    ['ledger removal', [{ ledger: { post1: entry(NOW), post2: null } }]],
    [
      'everything at once',
      [
        { status: 'review', fields: { mc_progress: 100 }, conditions: [{ type: 'SessionLinked', status: 'True', reason: 'Linked' }] },
        { fields: { mc_retry_count: 2, mc_last_error: 'stalled' }, ledger: { a: entry(NOW, 'pending') } },
        { conditions: [{ type: 'Delivered', status: 'False', reason: 'NotYet' }] },
      ],
    ],
    [
      'own fields only',
      [{ fields: { mc_retry_count: 3, mc_delivered: true }, conditions: [{ type: 'Stalled', status: 'False', reason: 'Active' }] }],
    ],
  ];

  it.each(cases)('%s', (_name, changes) => {
    const t1 = task();
    const first = merge(t1, changes)!;
    expect(first).not.toBeNull();
    const t2 = applyWrite(t1, first);
    expect(readStatus(t2.fields)).toEqual(first.nextStatus);
    expect(merge(t2, changes, undefined, LATER)).toBeNull();
    // and a third time, for good measure
    expect(merge(applyWrite(t2, { fields: {}, diff: [], nextStatus: first.nextStatus }), changes, undefined, LATER + 1)).toBeNull();
  });

  it.each(cases)('%s (conditions field not bound)', (_name, changes) => {
    const t1 = task();
    const first = merge(t1, changes, { conditionsBound: false });
    if (!first) return; // only controller status changed, and it cannot be stored
    expect(first.fields).not.toHaveProperty(CONDITIONS_FIELD);
    const t2 = applyWrite(t1, first);
    expect(merge(t2, changes, { conditionsBound: false }, LATER)).toBeNull();
  });
});

describe('observedHash / inputsHash', () => {
  /** A managed task whose status records the hash of its current inputs. */
  function managed(over: Partial<Task> = {}): Task {
    const t = task(over);
    const first = merge(t, [{ conditions: [{ type: 'Stalled', status: 'False', reason: 'Active' }] }])!;
    return applyWrite(t, first);
  }

  it('a managed task with unchanged inputs needs no write', () => {
    expect(merge(managed(), [])).toBeNull();
  });

  it.each([...OWN_FIELDS].filter((f) => f !== CONDITIONS_FIELD))('ignores the controller-owned field %s', (field) => {
    const t = managed();
    const t2 = { ...t, fields: { ...t.fields, [field]: 'changed by someone' } };
    expect(inputsHash(t2, t2.status, t2.fields)).toBe(inputsHash(t, t.status, t.fields));
    expect(merge(t2, [])).toBeNull();
  });

  it.each<[string, (t: Task) => Task]>([
    ['title', (t) => ({ ...t, title: 'New title' })],
    ['description', (t) => ({ ...t, description: 'New description' })],
    ['description to null', (t) => ({ ...t, description: null })],
    ['status', (t) => ({ ...t, status: 'review' })],
    ['assignee', (t) => ({ ...t, assignedAgentId: 'agent-7' })],
    ['a non-own field', (t) => ({ ...t, fields: { ...t.fields, mc_progress: 99 } })],
    ['a new non-own field', (t) => ({ ...t, fields: { ...t.fields, mc_risk_profile: 'high' } })],
  ])('changes with %s, and the new hash is written once', (_name, edit) => {
    const t = managed();
    const t2 = edit(t);
    expect(inputsHash(t2, t2.status, t2.fields)).not.toBe(inputsHash(t, t.status, t.fields));
    const w = merge(t2, [])!;
    expect(w).not.toBeNull();
    expect(Object.keys(w.fields)).toEqual([CONDITIONS_FIELD]);
    expect(w.nextStatus.observedHash).toBe(inputsHash(t2, t2.status, t2.fields));
    expect(w.nextStatus.conditions).toEqual(readStatus(t.fields).conditions); // no transition, same times
    expect(merge(applyWrite(t2, w), [], undefined, LATER)).toBeNull();
  });

  it('is independent of field key order', () => {
    const t = task();
    const reversed = Object.fromEntries(Object.entries(t.fields).reverse());
    expect(inputsHash(t, t.status, reversed)).toBe(inputsHash(t, t.status, t.fields));
  });

  it('the hash written is that of the task after the write (planned status and fields)', () => {
    const t = managed();
    const w = merge(t, [{ status: 'review', fields: { mc_progress: 100 } }])!;
    const after = applyWrite(t, w);
    expect(w.nextStatus.observedHash).toBe(inputsHash(after, after.status, after.fields));
  });

  it('an unmanaged task gets no hash and no mc_conditions write', () => {
    const w = merge(task(), [{ fields: { mc_progress: 41 } }])!;
    expect(w.fields).not.toHaveProperty(CONDITIONS_FIELD);
    expect(w.nextStatus).toEqual({ ...emptyStatus() });
  });
});

describe('summaryOf', () => {
  it.each<[string, ControllerStatus, string]>([
    ['empty', emptyStatus(), '(none)'],
    [
      'only Ready=True',
      { observedHash: '', ledger: {}, conditions: [{ type: 'Ready', status: 'True', reason: 'Reconciled', message: '', lastTransitionTime: '' }] },
      'Ready=True',
    ],
    [
      'abnormal',
      {
        observedHash: '',
        ledger: {},
        conditions: [
          { type: 'Stalled', status: 'True', reason: 'NoActivity', message: '', lastTransitionTime: '' },
          { type: 'Ready', status: 'False', reason: 'NoActivity', message: '', lastTransitionTime: '' },
        ],
      },
      'Stalled=True(NoActivity) Ready=False(NoActivity)',
    ],
  ])('%s', (_name, s, want) => {
    expect(summaryOf(s)).toBe(want);
  });
});

describe('mergeChanges: one pass, one story', () => {
  it('drops the comment of a transition a later change in the same pass overrides', () => {
    const w = merge(task(), [
      {
        status: 'review',
        conditions: [{ type: 'SessionLinked', status: 'False', reason: 'MissingSessionKey' }],
        comment: '[mc-controller] no session key: moved to review',
      },
      {
        status: 'in_progress',
        fields: { mc_session_key: 'agent:main:subagent:x' },
        conditions: [{ type: 'SessionLinked', status: 'True', reason: 'Linked' }],
        comment: '[mc-controller] linked to agent:main:subagent:x',
      },
    ])!;
    expect(w.comment).toBe('[mc-controller] linked to agent:main:subagent:x');
    expect(w.status).toBeUndefined(); // the task already is in_progress
    const stored = w.fields[CONDITIONS_FIELD] as ControllerStatus;
    expect(stored.conditions.find((c) => c.type === 'SessionLinked')).toMatchObject({ status: 'True', reason: 'Linked' });
  });

  it('keeps the comments of changes to different conditions', () => {
    const w = merge(task(), [
      { conditions: [{ type: 'Stalled', status: 'True', reason: 'NoActivity' }], comment: 'a' },
      { conditions: [{ type: 'Delivered', status: 'True', reason: 'Posted' }], comment: 'b' },
    ])!;
    expect(w.comment).toBe('a\n\nb');
  });
});

// Issue 12 items 3 and 7: every write ends with conditions and mc_status that describe the task as it now stands.
describe('mergeChanges: conditions settle, mc_status follows', () => {
  const opts = { conditionsBound: true, statusTextBound: true };
  const blocked = (t: Task): Task => {
    const w = merge(t, [{ status: 'review', conditions: [{ type: 'Blocked', status: 'True', reason: 'DoneAwaitingApproval', message: 'the agent reported done; board requires an approved approval for done' }] }], opts)!;
    return applyWrite(t, w);
  };

  it('the write that makes a task done clears what no longer holds; Ready turns True; the line says done', () => {
    const waiting = blocked(task());
    expect(waiting.fields.mc_status).toBe('Waiting for approval of done');
    const w = merge(waiting, [{ status: 'done', conditions: [{ type: 'Delivered', status: 'True', reason: 'Posted', message: '' }] }], opts, LATER)!;
    const conds = w.nextStatus.conditions;
    expect(conds.find((c) => c.type === 'Blocked')).toMatchObject({ status: 'False', reason: 'TaskDone' });
    expect(conds.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Reconciled' });
    expect(w.fields.mc_status).toBe('Delivered to Discord 1 May 11:00 UTC');
  });

  it('mc_status is written only when the line changes, and never when unbound', () => {
    const waiting = blocked(task());
    expect(merge(waiting, [{ fields: { mc_progress: 90 } }], opts)!.fields).not.toHaveProperty('mc_status');
    expect(merge(task(), [{ status: 'review', conditions: [{ type: 'Blocked', status: 'True', reason: 'AgentBlocked', message: 'x' }] }])!.fields).not.toHaveProperty('mc_status');
    expect(OWN_FIELDS.has('mc_status')).toBe(true);
  });
});

describe('riders: records that come only with a write the task gets anyway', () => {
  const seen: LedgerEntry = { s: 'done', at: NOW - 5_000, ext: 'agent:a:1 running' };
  const rider: TaskChange = { ledger: { 'task-update:seen': seen }, rider: true };

  it('a rider alone writes nothing; with another change it lands in the same write', () => {
    expect(merge(task(), [rider])).toBeNull();
    const w = merge(task(), [{ fields: { mc_progress: 50 } }, rider]);
    expect(w?.fields.mc_progress).toBe(50);
    expect(w?.nextStatus.ledger['task-update:seen']).toEqual(seen);
  });

  it('a change that changes nothing carries no rider either', () => {
    expect(merge(task(), [{ fields: { mc_progress: 40 } }, rider])).toBeNull();
  });

  it('withoutLoneRiders drops a rider no other task write of the key would carry', () => {
    const base = { key: 'task/b1/t1', reconciler: 'r', reason: 'x', boardId: 'b1', taskId: 't1' };
    const ride: Action = { ...base, type: 'task.patch', idempotencyKey: 'ride', change: rider };
    const write: Action = { ...base, type: 'task.patch', idempotencyKey: 'write', change: { fields: { mc_progress: 50 } } };
    expect(withoutLoneRiders([ride])).toEqual([]);
    expect(withoutLoneRiders([ride, write])).toEqual([ride, write]);
  });
});

