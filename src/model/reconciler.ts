import type { Action, DiscordPostAction } from './action.js';

type DiscordPurpose = DiscordPostAction['purpose'];
import type { GlobalSnapshot, TaskSnapshot } from './snapshot.js';
import type { Task } from './board.js';
import type { ControllerStatus } from './conditions.js';
import type { Session } from './session.js';
import type { PlannerSettings } from './settings.js';

export interface PlanResult {
  actions: Action[];
  /** ask to be looked at again after this many ms (a stall deadline, a grace period); the smallest wins */
  requeueAfterMs?: number;
}

/** Extra reads a planner needs for one task; the snapshot builder fetches only what some reconciler wants. */
export interface Wants {
  comments?: boolean;
  /** session keys whose chat history is needed */
  history?: string[];
  /** session keys whose opening prompt is needed (it never changes once there, so it is read once) */
  openings?: string[];
  /** session keys whose cumulative usage is needed */
  usage?: string[];
  /**
   * resolved approvals of the board (listed at most once per sync): a fresh process only knows pending ones,
   * and a resolution follow-up needs the resolved row
   */
  resolvedApprovals?: boolean;
}

export interface TaskReconciler {
  scope: 'task';
  name: string;
  /** cheap pre-check over the listed row, before any extra read */
  wants?(task: Task, status: ControllerStatus, snapshot: Omit<TaskSnapshot, 'comments'>): Wants | undefined;
  plan(snapshot: TaskSnapshot): PlanResult;
  /**
   * Tasks to look at now because a session no task is linked to changed (a gateway push), e.g. the task it
   * names; cheap, over listed rows. Without it only linked tasks react to pushes.
   */
  affectedBy?(session: Session, tasks: Iterable<Task>, now: number, settings: PlannerSettings): Task[];
}

/** One message a global planner needs to know about: is it in the channel already? */
export interface PostedQuery {
  /** the idempotency key the message carries (ref line / nonce) */
  key: string;
  /** it cannot have been posted before this (epoch ms): how far back the channel is searched */
  since: number;
  /** once found absent it stays absent (e.g. the notice of an approval already resolved): not searched again */
  final?: boolean;
}

/** Extra reads a global planner needs; the result is in GlobalSnapshot.posted. */
export interface GlobalWants {
  posted?: { purpose: DiscordPurpose; queries: PostedQuery[] };
  /** resolved approvals of every board (a fresh process, e.g. `once`, lists only pending ones) */
  resolvedApprovals?: boolean;
}

export interface GlobalReconciler {
  scope: 'global';
  name: string;
  /** the queue key this reconciler owns, e.g. `global/degrade` */
  key: string;
  /** cheap pre-check over the snapshot, before any extra read */
  wants?(snapshot: GlobalSnapshot): GlobalWants | undefined;
  plan(snapshot: GlobalSnapshot): PlanResult;
}

export type Reconciler = TaskReconciler | GlobalReconciler;
