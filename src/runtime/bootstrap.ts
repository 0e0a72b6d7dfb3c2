import type { Logger } from 'pino';
import { fieldActionKey, idempotencyKey, stableStringify, type Action, type DesiredField, type FieldDefinition } from '../model/index.js';
import type { FieldDefinitionInput, MissionControlApi } from '../clients/mission-control/api.js';
import { CREATED_MEANWHILE } from './effects/mission-control.js';
import type { Executor } from './executor.js';
import { applyOrDescribe, wasApplied, type OneShotEntry } from './one-shot.js';

export type BootstrapStep =
  | { op: 'create'; fieldKey: string; input: FieldDefinitionInput }
  | { op: 'update'; fieldKey: string; id: string; changes: Partial<Omit<FieldDefinitionInput, 'fieldKey'>>; why: string[] }
  | { op: 'noop'; fieldKey: string };

/**
 * Create missing fields, bind existing ones to every configured board (the PATCH replaces board_ids,
 * so send the union), and repair drifted type/default/visibility (the kit never did). Pure.
 */
export function planBootstrap(desired: readonly DesiredField[], existing: readonly FieldDefinition[], boardIds: readonly string[]): BootstrapStep[] {
  return desired.map((want): BootstrapStep => {
    const have = existing.find((d) => d.fieldKey === want.fieldKey);
    if (!have) {
      return {
        op: 'create',
        fieldKey: want.fieldKey,
        input: {
          fieldKey: want.fieldKey,
          label: want.label,
          fieldType: want.fieldType,
          uiVisibility: want.uiVisibility,
          required: false,
          defaultValue: want.defaultValue,
          description: want.description,
          boardIds: [...boardIds],
        },
      };
    }
    const changes: Partial<Omit<FieldDefinitionInput, 'fieldKey'>> = {};
    const why: string[] = [];
    const missingBoards = boardIds.filter((b) => !have.boardIds.includes(b));
    if (missingBoards.length > 0) {
      changes.boardIds = [...new Set([...have.boardIds, ...boardIds])].sort();
      why.push(`bind to ${missingBoards.join(', ')}`);
    }
    if (have.fieldType !== want.fieldType) {
      changes.fieldType = want.fieldType;
      why.push(`type ${have.fieldType} → ${want.fieldType}`);
    }
    if (stableStringify(have.defaultValue ?? null) !== stableStringify(want.defaultValue ?? null)) {
      changes.defaultValue = want.defaultValue;
      why.push(`default ${JSON.stringify(have.defaultValue ?? null)} → ${JSON.stringify(want.defaultValue)}`);
    }
    if (have.required) {
      changes.required = false;
      why.push('required → optional (a required controller field would block task writes)');
    }
    if (have.uiVisibility !== want.uiVisibility && (want.enforceVisibility || (have.uiVisibility === 'always' && want.uiVisibility === 'hidden'))) {
      changes.uiVisibility = want.uiVisibility;
      why.push(`visibility ${have.uiVisibility} → ${want.uiVisibility}`);
    }
    return why.length > 0 ? { op: 'update', fieldKey: want.fieldKey, id: have.id, changes, why } : { op: 'noop', fieldKey: want.fieldKey };
  });
}

/** The steps that change something, as actions for the executor. Pure. */
export function bootstrapActions(steps: readonly BootstrapStep[]): Action[] {
  return steps.flatMap((s): Action[] => {
    const base = { key: fieldActionKey(s.fieldKey), reconciler: 'bootstrap' };
    if (s.op === 'create')
      return [{ ...base, type: 'field.create', reason: `${s.fieldKey} missing`, idempotencyKey: idempotencyKey('field.create', s.input), input: s.input }];
    if (s.op === 'update')
      return [
        {
          ...base,
          type: 'field.update',
          reason: `${s.fieldKey}: ${s.why.join(', ')}`,
          idempotencyKey: idempotencyKey('field.update', s.id, s.changes),
          fieldKey: s.fieldKey,
          id: s.id,
          changes: s.changes,
        },
      ];
    return [];
  });
}

export interface BootstrapReport {
  created: string[];
  updated: string[];
  noop: string[];
  /** keys another writer (a concurrent bootstrap) created between our list and our create: bound to theirs */
  bound: string[];
  steps: BootstrapStep[];
  /** the actions, applied or (door shut) only described */
  entries: OneShotEntry[];
}

export interface BootstrapDeps {
  mc: MissionControlApi;
  executor: Executor;
  logger: Logger;
  /** why the effects door is shut ('dry-run', 'plan', …), or null when the actions are applied */
  closed: string | null;
}

/** Plans the fields against the organisation's definitions and hands the changes to the executor. */
export async function runBootstrap(deps: BootstrapDeps, desired: readonly DesiredField[], boardIds: readonly string[]): Promise<BootstrapReport> {
  const apply = (steps: readonly BootstrapStep[]) => applyOrDescribe(deps.executor, bootstrapActions(steps), deps);
  const steps = planBootstrap(desired, await deps.mc.listFieldDefinitions(), boardIds);
  const entries = await apply(steps);
  const bound = entries
    .filter((e) => e.action === 'field.create' && wasApplied(e) && e.outcome === 'skipped' && e.detail === CREATED_MEANWHILE)
    .map((e) => e.key.slice(fieldActionKey('').length));
  if (bound.length > 0) {
    // bound to the other writer's definitions like to existing ones: theirs may lack a board or drift
    const again = planBootstrap(desired.filter((d) => bound.includes(d.fieldKey)), await deps.mc.listFieldDefinitions(), boardIds);
    entries.push(...(await apply(again)));
  }
  const keys = (op: BootstrapStep['op']) => steps.filter((s) => s.op === op && !bound.includes(s.fieldKey)).map((s) => s.fieldKey);
  return { created: keys('create'), updated: keys('update'), noop: keys('noop'), bound, steps, entries };
}
