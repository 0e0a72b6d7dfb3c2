import type { Logger } from 'pino';
import { taskKey } from '../../model/index.js';
import type { MissionControlApi } from '../../clients/mission-control/api.js';
import { linkedTasks, type BoardStore } from '../store.js';

export interface StreamDeps {
  mc: MissionControlApi;
  store: BoardStore;
  boardIds: readonly string[];
  logger: Logger;
  enqueue(key: string): void;
  /** the keys of the global concerns, for an approval linked to no task */
  globalKeys: readonly string[];
  /** epoch ms the streams replay from: the moment the first listing began */
  since: number;
}

/**
 * The Mission Control task and approval streams of every board: each event updates the store's row and enqueues
 * the keys it concerns. They only make things faster; the resync is what guarantees convergence.
 */
export function openBoardStreams(d: StreamDeps): { close(): void }[] {
  const { mc, store, logger, enqueue } = d;
  return d.boardIds.flatMap((boardId) => [
    mc.streamTasks(boardId, {
      onEvent: (e) => {
        // A row no newer than the store's is the echo of a write the store already holds (most often our own
        // PATCH, whose answer carried it): nothing to look at again.
        const news = e.type === 'task.comment' || !e.task || store.upsertTask(e.task);
        if (news && e.taskId) enqueue(taskKey(boardId, e.taskId));
      },
      onError: (err) => logger.debug({ boardId, err: err.message }, 'task stream interrupted; reconnecting'),
      since: d.since,
    }),
    mc.streamApprovals(boardId, {
      onEvent: (e) => {
        store.upsertApproval(e.approval);
        const tasks = linkedTasks(e.approval);
        for (const id of tasks) enqueue(taskKey(boardId, id));
        // an approval linked to no task (or only to deleted ones) is a global concern's
        if (tasks.every((id) => !store.state(boardId).tasks.has(id))) for (const k of d.globalKeys) enqueue(k);
      },
      onError: (err) => logger.debug({ boardId, err: err.message }, 'approval stream interrupted; reconnecting'),
      since: d.since,
    }),
  ]);
}
