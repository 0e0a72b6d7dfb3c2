import { stableStringify, type DesiredField, type FieldDefinition } from '../model/index.js';
import type { FieldDefinitionInput, MissionControlApi } from '../clients/mission-control/api.js';
import { MissionControlError } from '../clients/mission-control/errors.js';

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

export interface BootstrapReport {
  created: string[];
  updated: string[];
  noop: string[];
  /** keys another writer (a concurrent bootstrap) created between our list and our create: bound to theirs */
  bound: string[];
  steps: BootstrapStep[];
}

export async function runBootstrap(
  mc: MissionControlApi,
  desired: readonly DesiredField[],
  boardIds: readonly string[],
  opts: { dryRun: boolean },
): Promise<BootstrapReport> {
  const steps = planBootstrap(desired, await mc.listFieldDefinitions(), boardIds);
  const bound: string[] = [];
  if (!opts.dryRun) {
    for (const step of steps) {
      if (step.op === 'create') {
        if (!(await createOrBind(mc, step, desired, boardIds))) bound.push(step.fieldKey);
      } else if (step.op === 'update') await mc.updateFieldDefinition(step.id, step.changes);
    }
  }
  const keys = (op: BootstrapStep['op']) => steps.filter((s) => s.op === op && !bound.includes(s.fieldKey)).map((s) => s.fieldKey);
  return { created: keys('create'), updated: keys('update'), noop: keys('noop'), bound, steps };
}

/**
 * Creates one field; true when this call created it. Two bootstraps at once (two replicas starting)
 * both see the key missing and both create it: upstream answers the loser with a bare 500 from the
 * unique constraint (recorded), not the 409 its code intends. Either answer may mean "someone else
 * has it now", so the list is read again and, when the key is there, bound to it like an existing one.
 */
async function createOrBind(
  mc: MissionControlApi,
  step: Extract<BootstrapStep, { op: 'create' }>,
  desired: readonly DesiredField[],
  boardIds: readonly string[],
): Promise<boolean> {
  try {
    await mc.createFieldDefinition(step.input);
    return true;
  } catch (err) {
    if (!(err instanceof MissionControlError) || !(err.status === 409 || err.kind === 'server')) throw err;
    const want = desired.filter((d) => d.fieldKey === step.fieldKey);
    const [again] = planBootstrap(want, await mc.listFieldDefinitions(), boardIds);
    if (!again || again.op === 'create') throw err;
    if (again.op === 'update') await mc.updateFieldDefinition(again.id, again.changes);
    return false;
  }
}
