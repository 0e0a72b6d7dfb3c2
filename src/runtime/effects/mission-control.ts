import type { FieldCreateAction, FieldUpdateAction, TaskCreateAction } from '../../model/index.js';
import type { MissionControlApi } from '../../clients/mission-control/api.js';
import { MissionControlError } from '../../clients/mission-control/errors.js';
import type { BoardStore } from '../store.js';
import type { EffectHandler } from './types.js';

/** The detail of a `field.create` whose key another writer created between our list and our create. */
export const CREATED_MEANWHILE = 'created meanwhile by another writer';

/**
 * `field.create`. Two bootstraps at once (two replicas starting) both see the key missing and both create it:
 * upstream answers the loser with a bare 500 from the unique constraint (recorded), not the 409 its code
 * intends. Either answer may mean "someone else has it now", so the list is read again; a key that is there
 * is `skipped` (bootstrap then binds to it like an existing one), anything else is the failure it was.
 */
export function makeFieldCreateHandler(mc: MissionControlApi): EffectHandler<FieldCreateAction> {
  return async (action) => {
    try {
      const created = await mc.createFieldDefinition(action.input);
      return { outcome: 'applied', externalId: created.id };
    } catch (err) {
      if (!(err instanceof MissionControlError) || !(err.status === 409 || err.kind === 'server')) throw err;
      const theirs = (await mc.listFieldDefinitions()).find((d) => d.fieldKey === action.input.fieldKey);
      if (!theirs) throw err;
      return { outcome: 'skipped', detail: CREATED_MEANWHILE, externalId: theirs.id };
    }
  };
}

/** `field.update`: a PATCH of the definition, idempotent by nature (it sets, never adds). */
export function makeFieldUpdateHandler(mc: MissionControlApi): EffectHandler<FieldUpdateAction> {
  return async (action) => {
    await mc.updateFieldDefinition(action.id, action.changes);
    return { outcome: 'applied', externalId: action.id };
  };
}

/** `task.create`: the created task goes into the board store, so the caller reads it as upstream answered it. */
export function makeTaskCreateHandler(mc: MissionControlApi, store: Pick<BoardStore, 'upsertTask'>): EffectHandler<TaskCreateAction> {
  return async (action) => {
    const task = await mc.createTask(action.boardId, action.input);
    store.upsertTask(task);
    return { outcome: 'applied', externalId: task.id };
  };
}

/** The handlers of every Mission Control write that is not a task patch (the executor merges those itself). */
export function missionControlHandlers(mc: MissionControlApi, store: Pick<BoardStore, 'upsertTask'>) {
  return {
    'field.create': makeFieldCreateHandler(mc),
    'field.update': makeFieldUpdateHandler(mc),
    'task.create': makeTaskCreateHandler(mc, store),
  };
}
