import { describe, expect, it } from 'vitest';
import {
  CONDITIONS_FIELD,
  emptyStatus,
  findCondition,
  isTrue,
  parseLedger,
  readStatus,
  readStatusChecked,
  setCondition,
  summarize,
  type Condition,
  type ConditionInput,
} from './conditions.js';

const T0 = Date.UTC(2024, 0, 1, 12, 0, 0);
const T1 = T0 + 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

const cond = (type: string, status: Condition['status'], reason = 'Because', message = '', at = T0): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: iso(at),
});

describe('setCondition', () => {
  it('adds a missing condition with the current time', () => {
    const r = setCondition([], { type: 'Stalled', status: 'True', reason: 'NoActivity', message: 'idle 61m' }, T0);
    expect(r.changed).toBe(true);
    expect(r.conditions).toEqual([cond('Stalled', 'True', 'NoActivity', 'idle 61m', T0)]);
  });

  it('defaults a missing message to the empty string', () => {
    const r = setCondition([], { type: 'Stalled', status: 'False', reason: 'Active' }, T0);
    expect(r.conditions[0]!.message).toBe('');
  });

  it.each<[string, ConditionInput, boolean, number]>([
    // name, input (existing is Stalled=False/Active/"ok" at T0), changed, expected lastTransitionTime
    ['identical', { type: 'Stalled', status: 'False', reason: 'Active', message: 'ok' }, false, T0],
    ['status flips', { type: 'Stalled', status: 'True', reason: 'Active', message: 'ok' }, true, T1],
    ['status flips to Unknown', { type: 'Stalled', status: 'Unknown', reason: 'Active', message: 'ok' }, true, T1],
    ['reason changes only', { type: 'Stalled', status: 'False', reason: 'Recovered', message: 'ok' }, true, T0],
    ['message changes only', { type: 'Stalled', status: 'False', reason: 'Active', message: 'still ok' }, true, T0],
    ['message omitted vs non-empty', { type: 'Stalled', status: 'False', reason: 'Active' }, true, T0],
  ])('%s', (_name, input, changed, at) => {
    const before = [cond('Other', 'True', 'X', '', T0 - 1), cond('Stalled', 'False', 'Active', 'ok', T0)];
    const r = setCondition(before, input, T1);
    expect(r.changed).toBe(changed);
    const got = findCondition(r.conditions, 'Stalled')!;
    expect(got.lastTransitionTime).toBe(iso(at));
    expect(got.status).toBe(input.status);
    expect(got.reason).toBe(input.reason);
    expect(got.message).toBe(input.message ?? '');
    // the other condition is untouched and order is kept
    expect(r.conditions.map((c) => c.type)).toEqual(['Other', 'Stalled']);
    expect(r.conditions[0]).toEqual(before[0]);
  });

  it('never mutates its input', () => {
    const before = [cond('Stalled', 'False', 'Active', 'ok', T0)];
    const copy = structuredClone(before);
    const r = setCondition(before, { type: 'Stalled', status: 'True', reason: 'NoActivity' }, T1);
    expect(before).toEqual(copy);
    expect(r.conditions).not.toBe(before);
  });

  it('unchanged returns an equal array and changed=false', () => {
    const before = [cond('Ready', 'True', 'Reconciled', '', T0)];
    const r = setCondition(before, { type: 'Ready', status: 'True', reason: 'Reconciled', message: '' }, T1);
    expect(r).toEqual({ conditions: before, changed: false });
  });

  it.each(['', 'not camel case', 'has-dash', '1Leading', 'Trailing_,', 'Ends:', 'with space'])('throws on invalid reason %j', (reason) => {
    expect(() => setCondition([], { type: 'Stalled', status: 'True', reason }, T0)).toThrow(/reason/);
  });

  it.each(['A', 'NoActivity', 'Reason_2', 'a,b', 'Scope:Thing'])('accepts reason %j', (reason) => {
    expect(setCondition([], { type: 'Stalled', status: 'True', reason }, T0).changed).toBe(true);
  });
});

describe('findCondition / isTrue', () => {
  const list = [cond('Stalled', 'True'), cond('Delivered', 'False'), cond('Odd', 'Unknown')];
  it.each([
    ['Stalled', true],
    ['Delivered', false],
    ['Odd', false],
    ['Missing', false],
  ] as const)('isTrue(%s) = %s', (type, want) => {
    expect(isTrue(list, type)).toBe(want);
  });
  it('findCondition returns undefined for a missing type', () => {
    expect(findCondition(list, 'Nope')).toBeUndefined();
  });
});

describe('summarize', () => {
  it.each<[string, Condition[], Partial<ConditionInput>]>([
    ['no conditions', [], { status: 'True', reason: 'Reconciled' }],
    ['all normal', [cond('Stalled', 'False', 'Active'), cond('Delivered', 'True', 'Posted'), cond('SessionLinked', 'True', 'Linked')], { status: 'True', reason: 'Reconciled' }],
    ['Stalled=True', [cond('Stalled', 'True', 'NoActivity', 'idle')], { status: 'False', reason: 'NoActivity', message: 'Stalled: idle' }],
    ['SessionLinked=False', [cond('SessionLinked', 'False', 'MissingKey')], { status: 'False', reason: 'MissingKey', message: 'SessionLinked: MissingKey' }],
    ['Delivered=False', [cond('Delivered', 'False', 'PostFailed', 'discord 500')], { status: 'False', reason: 'PostFailed' }],
    [
      'first abnormal wins, all listed',
      [cond('Delivered', 'True', 'Posted'), cond('AwaitingApproval', 'True', 'Pending', 'approval 1'), cond('Failed', 'True', 'Crashed', 'boom')],
      { status: 'False', reason: 'Pending', message: 'AwaitingApproval: approval 1; Failed: boom' },
    ],
    ['Unknown is not abnormal', [cond('Stalled', 'Unknown', 'NoData'), cond('SessionLinked', 'Unknown', 'NoData')], { status: 'True', reason: 'Reconciled' }],
    ['unknown condition types are ignored', [cond('Custom', 'True', 'Whatever'), cond('Custom2', 'False', 'Whatever')], { status: 'True', reason: 'Reconciled' }],
    ['Ready itself is ignored', [cond('Ready', 'False', 'Old', 'stale')], { status: 'True', reason: 'Reconciled' }],
    ['Degraded / ReconcileError', [cond('ReconcileError', 'True', 'ApiDown'), cond('Degraded', 'True', 'Memory')], { status: 'False', reason: 'ApiDown' }],
  ])('%s', (_name, conditions, want) => {
    const s = summarize(conditions);
    expect(s.type).toBe('Ready');
    expect(s).toMatchObject(want);
    if (want.status === 'True') expect(s.message).toBe('');
  });

  it('its output is accepted by setCondition', () => {
    const s = summarize([cond('Stalled', 'True', 'NoActivity')]);
    expect(() => setCondition([], s, T0)).not.toThrow();
  });
});

describe('readStatus', () => {
  const good = {
    observedHash: 'abc',
    conditions: [cond('Stalled', 'True', 'NoActivity')],
    ledger: { k1: { s: 'done', at: 5, ext: 'm1' } },
  };

  it('reads a well-formed value', () => {
    expect(readStatus({ [CONDITIONS_FIELD]: good })).toEqual(good);
  });

  it('fills defaults for missing parts', () => {
    expect(readStatus({ [CONDITIONS_FIELD]: {} })).toEqual(emptyStatus());
    expect(readStatus({ [CONDITIONS_FIELD]: { observedHash: 'h' } })).toEqual({ observedHash: 'h', conditions: [], ledger: {} });
  });

  it.each<[string, unknown]>([
    ['absent', undefined],
    ['null', null],
    ['string', 'garbage'],
    ['number', 42],
    ['array', [1, 2]],
    ['bad condition status', { conditions: [{ ...cond('X', 'True'), status: 'Maybe' }] }],
    ['bad reason', { conditions: [{ ...cond('X', 'True'), reason: 'no spaces allowed' }] }],
    ['bad ledger entry', { ledger: { k: { s: 'weird', at: 1 } } }],
    ['ledger not an object', { ledger: 'x' }],
    ['hash not a string', { observedHash: 7 }],
  ])('yields an empty status for %s', (_name, value) => {
    const fields = value === undefined ? {} : { [CONDITIONS_FIELD]: value };
    expect(readStatus(fields)).toEqual(emptyStatus());
  });

  it('ignores other fields', () => {
    expect(readStatus({ mc_progress: 50, [CONDITIONS_FIELD]: good })).toEqual(good);
  });
});

describe('ledger entry by entry', () => {
  const notice = { s: 'done', at: 5, ext: 'm1' };
  const delivery = { s: 'pending', at: 6 };

  it('keeps every good entry beside a junk one and names only the junk', () => {
    expect(parseLedger({ notice, junk: 5, delivery, half: { s: 'done' } })).toEqual({ ledger: { notice, delivery }, dropped: ['junk', 'half'] });
  });

  it('keeps the conditions, the hash and the other entries of mc_conditions', () => {
    const value = { observedHash: 'abc', conditions: [cond('Stalled', 'True', 'NoActivity'), { type: 'Bad' }], ledger: { notice, junk: 5 } };
    expect(readStatusChecked({ [CONDITIONS_FIELD]: value })).toEqual({
      status: { observedHash: 'abc', conditions: [cond('Stalled', 'True', 'NoActivity')], ledger: { notice } },
      dropped: ['conditions[1]', 'ledger.junk'],
    });
    expect(readStatus({ [CONDITIONS_FIELD]: value }).ledger).toEqual({ notice });
  });

  it('reports nothing for a well-formed or absent value', () => {
    expect(readStatusChecked({}).dropped).toEqual([]);
    expect(readStatusChecked({ [CONDITIONS_FIELD]: { ledger: { notice } } }).dropped).toEqual([]);
  });
});
