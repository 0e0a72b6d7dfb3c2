import type { Approval, Board, FieldDefinition, Task, TaskComment } from './board.js';
import type { ControllerStatus } from './conditions.js';
import type { ChatMessage, ExecApproval, Session, SessionUsage } from './session.js';
import type { PlannerSettings } from './settings.js';

/** What the gateway looked like at the start of a pass; absent when no gateway is configured. */
export interface GatewayView {
  /** false until the first full list succeeded, or while the gateway is unreachable */
  synced: boolean;
  /** epoch ms at which the gateway process started (from hello-ok uptime); drives the missing-session grace */
  startedAt: number | null;
  sessions: ReadonlyMap<string, Session>;
  /** children by parent key (spawnedBy) */
  children: ReadonlyMap<string, readonly Session[]>;
  execApprovals: readonly ExecApproval[];
  /** chat history fetched on demand for the keys a reconciler asked for (see Reconciler.wants) */
  history: ReadonlyMap<string, readonly ChatMessage[]>;
  /** opening prompt of the sessions a reconciler asked for (null: none yet); read once per session, ever */
  openings: ReadonlyMap<string, string | null>;
  usage: ReadonlyMap<string, SessionUsage>;
  /**
   * Keys the gateway refused to read (INVALID_REQUEST: not a session reference, malformed key) → its message.
   * A finding about the task's link, never a failure of the pass; the key has no entry in history/usage.
   */
  readErrors?: ReadonlyMap<string, string>;
}

export interface GlobalState {
  degraded: boolean;
  /** first pass of this controller on each board (epoch ms), for the delivery backlog rule */
  firstRunAt: Record<string, number>;
  [key: string]: unknown;
}

/** Everything a task-scoped planner may look at: one task and what relates to it. */
export interface TaskSnapshot {
  now: number;
  settings: PlannerSettings;
  board: Board | null;
  boardId: string;
  task: Task;
  /** parsed `mc_conditions` (empty when unset or unreadable) */
  status: ControllerStatus;
  /** approvals linked to this task, every status we have seen */
  approvals: readonly Approval[];
  /** comments, present only when a reconciler's wants() asked for them */
  comments?: readonly TaskComment[];
  gateway?: GatewayView;
  global: GlobalState;
  /** field keys bound to the board; writing others would be refused with 422 */
  boundFields: ReadonlySet<string>;
  /** session keys some task (of any board) is already linked to: never another task's to adopt */
  linkedSessions?: { has(sessionKey: string): boolean };
}

/** What a global planner sees: every board at once. */
export interface GlobalSnapshot {
  now: number;
  settings: PlannerSettings;
  boards: readonly {
    boardId: string;
    board: Board | null;
    tasks: readonly Task[];
    approvals: readonly Approval[];
    fieldDefs: readonly FieldDefinition[];
  }[];
  gateway?: GatewayView;
  global: GlobalState;
  /** memory-pressure reading, when the degrade signal runs */
  pressure?: unknown;
  /** idempotency key → Discord message id, for the keys the planner's wants() asked about that are in the channel */
  posted?: ReadonlyMap<string, string>;
}
