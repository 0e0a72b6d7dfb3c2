import { stableStringify, type DesiredField, type FieldDefinition } from '../model/index.js';
import type { FieldDefinitionInput, MissionControlApi } from '../clients/mission-control/api.js';

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
  steps: BootstrapStep[];
}

export async function runBootstrap(
  mc: MissionControlApi,
  desired: readonly DesiredField[],
  boardIds: readonly string[],
  opts: { dryRun: boolean },
): Promise<BootstrapReport> {
  const steps = planBootstrap(desired, await mc.listFieldDefinitions(), boardIds);
  if (!opts.dryRun) {
    for (const step of steps) {
      if (step.op === 'create') await mc.createFieldDefinition(step.input);
      else if (step.op === 'update') await mc.updateFieldDefinition(step.id, step.changes);
    }
  }
  const keys = (op: BootstrapStep['op']) => steps.filter((s) => s.op === op).map((s) => s.fieldKey);
  return { created: keys('create'), updated: keys('update'), noop: keys('noop'), steps };
}
