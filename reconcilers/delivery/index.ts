import {
  CONDITIONS_FIELD,
  idempotencyKey,
  isTrue,
  MARKER,
  taskKey,
  type Action,
  type ControllerStatus,
  type PlanResult,
  type Task,
  type TaskChange,
  type TaskReconciler,
  type TaskSnapshot,
  type Wants,
  truthyFlag,
} from '../../src/model/index.js';
import { deliveryMessage } from './format.js';
import { outputSummaryOf, pickSummary } from './summary.js';

/**
 * Delivery (legacy-kit.md §11, issue 5): a done task whose result was not delivered gets one Discord
 * message, then `mc_delivered=true`, a `Delivered` condition and one comment — written by the executor
 * only after the post succeeded (`after`), with the intent in the ledger before it.
 *
 * Idempotency key: hash(taskId, 'delivery', n), where n is the number of this task's deliveries already
 * `done` in the ledger (keys for n = 0, 1, … looked up in turn). While a delivery is pending (even across
 * crashes) n is unchanged, so every retry reuses the key and therefore the Discord nonce; once it is done
 * n moves on, so a later completion — the task re-opened (which resets `mc_delivered`, see `reopened`)
 * and completed again — gets a fresh key. Neither `updatedAt` (moved by our own writes) nor
 * `inProgressAt` (cleared by inbox/review, kept by a direct done → done cycle) would be stable.
 */

export const NAME = 'delivery';
export const DELIVERED_FIELD = 'mc_delivered';
export const DELIVERED = 'Delivered';
export { MARKER };
/** when the runtime has not yet recorded the board's first run, look again soon rather than guess */
const FIRST_RUN_UNKNOWN_REQUEUE_MS = 5_000;
/** comments were wanted but not supplied: wait for a snapshot that has them rather than post a worse message */
const COMMENTS_MISSING_REQUEUE_MS = 30_000;



/**
 * Whether the current completion counts as delivered. The legacy field rules when it is bound to the board
 * (a script or a human may set it false to ask for a new delivery); otherwise our own condition does.
 */
export function isDelivered(task: Task, status: ControllerStatus, boundFields: ReadonlySet<string>): boolean {
  if (boundFields.has(DELIVERED_FIELD)) return truthyFlag(task.fields[DELIVERED_FIELD]);
  return isTrue(status.conditions, DELIVERED);
}

/** Bounds the lookup; a task delivered this often is a loop worth stopping anyway. */
const MAX_DELIVERIES = 1_000;

const keyAt = (taskId: string, n: number): string => idempotencyKey(taskId, 'delivery', n);

export function deliveriesDone(taskId: string, status: ControllerStatus): number {
  let n = 0;
  while (n < MAX_DELIVERIES && status.ledger[keyAt(taskId, n)]?.s === 'done') n += 1;
  return n;
}

/** Plain 20-hex key: the executor's comment reference and ledger expect hex idempotency keys. */
export function deliveryKey(taskId: string, status: ControllerStatus): string {
  return keyAt(taskId, deliveriesDone(taskId, status));
}

type Backlog = 'backlog' | 'fresh' | 'unknown';

function backlogOf(task: Task, snap: Pick<TaskSnapshot, 'settings' | 'global' | 'boardId'>): Backlog {
  if (snap.settings.delivery.backlog === 'deliver') return 'fresh';
  const firstRunAt = snap.global.firstRunAt[snap.boardId];
  if (firstRunAt === undefined) return 'unknown';
  return task.updatedAt < firstRunAt ? 'backlog' : 'fresh';
}

function deliveredFields(bound: ReadonlySet<string>, value: boolean): TaskChange['fields'] {
  return bound.has(DELIVERED_FIELD) ? { [DELIVERED_FIELD]: value } : undefined;
}

export const deliveryReconciler: TaskReconciler = {
  scope: 'task',
  name: NAME,

  wants(task, status, snap): Wants | undefined {
    if (task.status !== 'done' || isDelivered(task, status, snap.boundFields)) return undefined;
    if (outputSummaryOf(task) || backlogOf(task, snap) !== 'fresh') return undefined;
    return { comments: true };
  },

  plan(snap: TaskSnapshot): PlanResult {
    const { task, status, boundFields } = snap;
    // without the status field there is no ledger, and without a ledger no exactly-once
    if (!boundFields.has(CONDITIONS_FIELD)) return { actions: [] };
    const delivered = isDelivered(task, status, boundFields);
    if (task.status !== 'done') return { actions: delivered ? [reopened(snap)] : [] };
    if (delivered) return { actions: [] };

    const backlog = backlogOf(task, snap);
    if (backlog === 'unknown') return { actions: [], requeueAfterMs: FIRST_RUN_UNKNOWN_REQUEUE_MS };
    if (backlog === 'backlog') return { actions: [skippedAsBacklog(snap)] };

    if (!outputSummaryOf(task) && snap.comments === undefined) {
      return { actions: [], requeueAfterMs: COMMENTS_MISSING_REQUEUE_MS };
    }
    return { actions: [post(snap)] };
  },
};

function post(snap: TaskSnapshot): Action {
  const { task, boardId, now, boundFields } = snap;
  const key = deliveryKey(task.id, snap.status);
  const summary = pickSummary(task, snap.comments);
  const message = deliveryMessage(task, summary.text, key, snap.settings.locale);
  return {
    type: 'discord.post',
    key: taskKey(boardId, task.id),
    reconciler: NAME,
    reason: `task done and not delivered; posting the result (summary from ${summary.source})`,
    idempotencyKey: key,
    purpose: 'delivery',
    content: message.content,
    ...(message.embeds ? { embeds: message.embeds } : {}),
    task: { boardId, taskId: task.id },
    after: {
      fields: deliveredFields(boundFields, true),
      conditions: [{ type: DELIVERED, status: 'True', reason: 'Posted', message: 'result posted to Discord' }],
      // the executor replaces this with the confirmed entry (at = confirmation time, ext = message id)
      ledger: { [key]: { s: 'done', at: now } },
      comment: `${MARKER} delivery: result posted to Discord`,
    },
  };
}

/** A mark-only change (no post), keyed per completion so a later completion gets its own. */
function mark(snap: TaskSnapshot, tag: string, reason: string, change: TaskChange): Action {
  const { task, boardId } = snap;
  return {
    type: 'task.patch',
    key: taskKey(boardId, task.id),
    reconciler: NAME,
    reason,
    idempotencyKey: idempotencyKey(task.id, tag, deliveriesDone(task.id, snap.status)),
    boardId,
    taskId: task.id,
    change,
  };
}

function skippedAsBacklog(snap: TaskSnapshot): Action {
  return mark(snap, 'delivery-backlog', 'done before the controller first ran on this board; marked delivered without posting (backlog=skip)', {
    fields: deliveredFields(snap.boundFields, true),
    conditions: [{ type: DELIVERED, status: 'True', reason: 'BacklogSkipped', message: 'completed before the first run; not posted' }],
    comment: `${MARKER} delivery skipped: task was done before mc-controller first ran on this board (backlog=skip)`,
  });
}

/**
 * A delivered task that is no longer done was re-opened: clear the mark so its next completion is
 * delivered again. No comment: the status change itself is the visible event.
 */
function reopened(snap: TaskSnapshot): Action {
  return mark(snap, 'delivery-reopen', `task left done (now ${snap.task.status}); clearing the delivery mark so the next completion is delivered`, {
    fields: deliveredFields(snap.boundFields, false),
    conditions: [{ type: DELIVERED, status: 'Unknown', reason: 'Reopened', message: 'task re-opened after delivery' }],
  });
}
