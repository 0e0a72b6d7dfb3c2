import { readStatus, type Task } from '../../model/index.js';
import type { EffectsDoor } from '../effects/door.js';
import type { GlobalStateFile } from '../global-state.js';
import type { Mode } from './options.js';

/**
 * When the controller first ran on each board, for planners that must not act on what happened before it. The
 * board is the durable record: the earliest condition any task carries is when we first ran there; the state file
 * only remembers it for a board that carries none yet.
 */
export class FirstRun {
  private at: Record<string, number> = {};

  constructor(private readonly o: { globalState: GlobalStateFile; door: EffectsDoor }) {}

  update(boardId: string, tasks: Iterable<Task>, mode: Mode): void {
    const { globalState, door } = this.o;
    let earliest = globalState.get().firstRunAt[boardId] ?? Number.POSITIVE_INFINITY;
    for (const t of tasks) {
      for (const c of readStatus(t.fields).conditions) {
        const at = Date.parse(c.lastTransitionTime);
        if (at < earliest) earliest = at;
      }
    }
    if (!Number.isFinite(earliest)) {
      earliest = this.at[boardId] ?? Date.now();
      if (mode === 'apply' && door.isOpen) globalState.merge({ firstRunAt: { ...globalState.get().firstRunAt, [boardId]: earliest } });
    }
    this.at[boardId] = earliest;
  }

  /** A copy, for a snapshot. */
  all(): Record<string, number> {
    return { ...this.at };
  }
}
