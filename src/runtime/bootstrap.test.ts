import { describe, expect, it } from 'vitest';
import { actionSchema, DESIRED_FIELDS, type DesiredField, type FieldDefinition } from '../model/index.js';
import { bootstrapActions, planBootstrap, type BootstrapStep } from './bootstrap.js';

const desired: DesiredField[] = [
  { fieldKey: 'mc_progress', label: 'mc_progress', fieldType: 'integer', defaultValue: 0, uiVisibility: 'if_set', description: 'Progress' },
  { fieldKey: 'mc_session_key', label: 'mc_session_key', fieldType: 'text', defaultValue: null, uiVisibility: 'if_set', description: 'Session' },
  { fieldKey: 'mc_conditions', label: 'mc_conditions', fieldType: 'json', defaultValue: null, uiVisibility: 'if_set', description: 'Status' },
];

let nextId = 0;
function def(want: DesiredField, over: Partial<FieldDefinition> = {}): FieldDefinition {
  return {
    id: `id-${want.fieldKey}-${nextId++}`,
    fieldKey: want.fieldKey,
    label: want.label,
    fieldType: want.fieldType,
    uiVisibility: want.uiVisibility,
    required: false,
    defaultValue: want.defaultValue,
    description: want.description,
    boardIds: ['b1'],
    ...over,
  };
}

/** What Mission Control would hold after the steps ran (create adds, update patches; board_ids replaced). */
function apply(existing: FieldDefinition[], steps: BootstrapStep[]): FieldDefinition[] {
  const out = existing.map((d) => ({ ...d, boardIds: [...d.boardIds] }));
  for (const s of steps) {
    if (s.op === 'create') {
      const { input } = s;
      out.push({
        id: `created-${input.fieldKey}`,
        fieldKey: input.fieldKey,
        label: input.label ?? input.fieldKey,
        fieldType: input.fieldType,
        uiVisibility: input.uiVisibility ?? 'always',
        required: input.required ?? false,
        defaultValue: input.defaultValue ?? null,
        description: input.description ?? null,
        boardIds: [...input.boardIds].sort(),
      });
    } else if (s.op === 'update') {
      const d = out.find((x) => x.id === s.id)!;
      Object.assign(d, s.changes);
    }
  }
  return out;
}

const byKey = (steps: BootstrapStep[], key: string) => steps.find((s) => s.fieldKey === key)!;

describe('planBootstrap', () => {
  it('creates every missing field for the configured boards, never required', () => {
    const steps = planBootstrap(desired, [], ['b1', 'b2']);
    expect(steps.map((s) => s.op)).toEqual(['create', 'create', 'create']);
    for (const [i, s] of steps.entries()) {
      if (s.op !== 'create') throw new Error('expected create');
      expect(s.input).toEqual({
        fieldKey: desired[i]!.fieldKey,
        label: desired[i]!.label,
        fieldType: desired[i]!.fieldType,
        uiVisibility: 'if_set',
        required: false,
        defaultValue: desired[i]!.defaultValue,
        description: desired[i]!.description,
        boardIds: ['b1', 'b2'],
      });
    }
  });

  it('is a no-op when everything is in place', () => {
    const existing = desired.map((d) => def(d, { boardIds: ['b1', 'b2'] }));
    expect(planBootstrap(desired, existing, ['b1'])).toEqual(desired.map((d) => ({ op: 'noop', fieldKey: d.fieldKey })));
  });

  it('binds an unbound field with the union of its boards and the configured ones', () => {
    const existing = [def(desired[0]!, { boardIds: ['other-2', 'other-1'] })];
    const step = byKey(planBootstrap(desired.slice(0, 1), existing, ['b2', 'b1', 'other-1']), 'mc_progress');
    expect(step).toMatchObject({ op: 'update', id: existing[0]!.id, changes: { boardIds: ['b1', 'b2', 'other-1', 'other-2'] } });
    if (step.op !== 'update') throw new Error('expected update');
    expect(Object.keys(step.changes)).toEqual(['boardIds']);
    expect(step.why.join(' ')).toContain('b2');
    expect(step.why.join(' ')).toContain('b1');
  });

  it.each<[string, Partial<FieldDefinition>, Record<string, unknown>]>([
    ['type drift', { fieldType: 'text' }, { fieldType: 'integer' }],
    ['default drift', { defaultValue: 5 }, { defaultValue: 0 }],
    ['default missing', { defaultValue: null }, { defaultValue: 0 }],
    ['required', { required: true }, { required: false }],
    ['type + default + required', { fieldType: 'decimal', defaultValue: 1.5, required: true }, { fieldType: 'integer', defaultValue: 0, required: false }],
  ])('repairs %s', (_name, drift, changes) => {
    const existing = [def(desired[0]!, drift)];
    const step = byKey(planBootstrap(desired.slice(0, 1), existing, ['b1']), 'mc_progress');
    expect(step.op).toBe('update');
    if (step.op !== 'update') return;
    expect(step.changes).toEqual(changes);
    expect(step.why).toHaveLength(Object.keys(changes).length);
  });

  it('equal json defaults in another key order are not drift', () => {
    const want: DesiredField = { ...desired[2]!, defaultValue: { a: 1, b: [1, 2] } };
    const existing = [def(want, { defaultValue: { b: [1, 2], a: 1 } })];
    expect(planBootstrap([want], existing, ['b1'])).toEqual([{ op: 'noop', fieldKey: want.fieldKey }]);
  });

  it('leaves a label, description or a more visible ui setting chosen by a human alone', () => {
    const existing = [def(desired[0]!, { label: 'Progress %', description: 'edited', uiVisibility: 'always' })];
    expect(planBootstrap(desired.slice(0, 1), existing, ['b1'])).toEqual([{ op: 'noop', fieldKey: 'mc_progress' }]);
  });

  it('ignores fields it does not manage', () => {
    const foreign: FieldDefinition = { ...def(desired[0]!), fieldKey: 'team_notes', fieldType: 'text', required: true };
    const steps = planBootstrap(desired, [foreign], ['b1']);
    expect(steps.map((s) => s.fieldKey)).toEqual(desired.map((d) => d.fieldKey));
    expect(steps.every((s) => s.op === 'create')).toBe(true);
  });

  it('mixes create, update and noop in one plan', () => {
    const existing = [def(desired[0]!), def(desired[1]!, { boardIds: ['b9'] })];
    expect(planBootstrap(desired, existing, ['b1']).map((s) => [s.fieldKey, s.op])).toEqual([
      ['mc_progress', 'noop'],
      ['mc_session_key', 'update'],
      ['mc_conditions', 'create'],
    ]);
  });

  it.each<[string, FieldDefinition[], string[]]>([
    ['from nothing', [], ['b1', 'b2']],
    ['from drift', [def(DESIRED_FIELDS[1]!, { fieldType: 'text', required: true, boardIds: ['x'] }), def(DESIRED_FIELDS[3]!, { defaultValue: true })], ['b1']],
    ['from a partial install', DESIRED_FIELDS.slice(0, 7).map((d) => def(d, { boardIds: ['b1'] })), ['b1', 'b2']],
  ])('a second plan after applying the first is all noop (%s)', (_name, existing, boards) => {
    const first = planBootstrap(DESIRED_FIELDS, existing, boards);
    expect(first.some((s) => s.op !== 'noop')).toBe(true);
    const after = apply(existing, first);
    const second = planBootstrap(DESIRED_FIELDS, after, boards);
    expect(second.filter((s) => s.op !== 'noop')).toEqual([]);
    expect(second).toHaveLength(DESIRED_FIELDS.length);
    for (const d of DESIRED_FIELDS) {
      const got = after.find((x) => x.fieldKey === d.fieldKey)!;
      for (const b of boards) expect(got.boardIds).toContain(b);
      expect(got.required).toBe(false);
    }
  });

  it('the desired set includes mc_conditions as a json field and no required field', () => {
    expect(DESIRED_FIELDS.find((d) => d.fieldKey === 'mc_conditions')?.fieldType).toBe('json');
    expect(new Set(DESIRED_FIELDS.map((d) => d.fieldKey)).size).toBe(DESIRED_FIELDS.length);
  });

  // Issue 12 item 7: the ledger stays off the card, the readable line on it, whatever drifted.
  it('repairs the visibility of the display fields the controller owns, and only theirs', () => {
    const want = DESIRED_FIELDS.filter((d) => ['mc_conditions', 'mc_status', 'mc_progress'].includes(d.fieldKey));
    expect(want.find((d) => d.fieldKey === 'mc_conditions')?.uiVisibility).toBe('hidden');
    expect(want.find((d) => d.fieldKey === 'mc_status')).toMatchObject({ uiVisibility: 'always', fieldType: 'text' });
    const drifted: FieldDefinition[] = [
      { id: 'c', fieldKey: 'mc_conditions', label: 'mc_conditions', fieldType: 'json', uiVisibility: 'if_set', required: false, defaultValue: null, description: null, boardIds: ['b1'] },
      { id: 's', fieldKey: 'mc_status', label: 'mc_status', fieldType: 'text', uiVisibility: 'hidden', required: false, defaultValue: null, description: null, boardIds: ['b1'] },
      { id: 'p', fieldKey: 'mc_progress', label: 'mc_progress', fieldType: 'integer', uiVisibility: 'always', required: false, defaultValue: 0, description: null, boardIds: ['b1'] },
    ];
    const steps = planBootstrap(want, drifted, ['b1']);
    expect(steps.find((s) => s.fieldKey === 'mc_conditions')).toMatchObject({ op: 'update', changes: { uiVisibility: 'hidden' } });
    expect(steps.find((s) => s.fieldKey === 'mc_status')).toMatchObject({ op: 'update', changes: { uiVisibility: 'always' } });
    expect(steps.find((s) => s.fieldKey === 'mc_progress')).toMatchObject({ op: 'noop' });
  });
});

describe('bootstrapActions', () => {
  it('turns creates and updates into valid field actions keyed by field; noops into nothing', () => {
    const existing = [def(desired[0]!, { defaultValue: 5 }), def(desired[1]!)];
    const actions = bootstrapActions(planBootstrap(desired, existing, ['b1']));
    expect(actions.map((a) => [a.type, a.key, a.reason])).toEqual([
      ['field.update', 'field/mc_progress', 'mc_progress: default 5 → 0'],
      ['field.create', 'field/mc_conditions', 'mc_conditions missing'],
    ]);
    for (const a of actions) expect(actionSchema.safeParse(a).success).toBe(true);
  });

  it('keeps an idempotency key until the wanted change differs', () => {
    const key = (defaultValue: unknown) => bootstrapActions(planBootstrap(desired.slice(0, 1), [def(desired[0]!, { id: 'p', defaultValue })], ['b1']))[0]!.idempotencyKey;
    expect(key(5)).toBe(key(5));
    expect(key(5)).toBe(key(6)); // the same PATCH repairs either drift
    const bind = bootstrapActions(planBootstrap(desired.slice(0, 1), [def(desired[0]!, { id: 'p', boardIds: ['b2'] })], ['b1']))[0]!;
    expect(bind.idempotencyKey).not.toBe(key(5));
  });
});
