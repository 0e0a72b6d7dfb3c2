import {
  CONDITIONS_FIELD,
  isTrue,
  MARKER,
  taskKey,
  type Action,
  type Approval,
  type PlanResult,
  type TaskReconciler,
  type TaskSnapshot,
  truthyFlag,
} from '../../src/model/index.js';
import { followUpMessage, noticeMessage, taskLink } from './format.js';
import { followUpKey, noticeKey } from './keys.js';

/**
 * Approval notifications (legacy-kit.md §13, issue 5): one Discord notice per pending APPROVAL (the kit
 * kept one flag per task and never announced a second approval), one short follow-up once an announced
 * approval is resolved. What was announced lives in the owner task's ledger, keyed per approval id.
 *
 * Owner: an approval may link several tasks, and each task is planned on its own. The first linked task
 * (`task_id`, which upstream sets to the first link; else `task_ids[0]`) owns the ledger entry, so every
 * pass and every task's planner agree on one owner from the approval row alone, without coordination, and
 * the approval is announced once (the notice names the other linked tasks).
 *
 * Approvals linked to no task are announced by `unlinked.ts` (global key, ledger in the state file).
 * Out of scope: approvals whose owner task is not on the board we list.
 */

export const NAME = 'approvals';
export const NOTIFIED_FIELD = 'mc_approval_notified';
export const APPROVAL_NOTIFIED = 'ApprovalNotified';
export { MARKER };
const FIRST_RUN_UNKNOWN_REQUEUE_MS = 5_000;

export { followUpKey, noticeKey } from './keys.js';

export function ownerOf(approval: Approval): string | null {
  return approval.taskId ?? approval.taskIds[0] ?? null;
}


export const approvalsReconciler: TaskReconciler = {
  scope: 'task',
  name: NAME,

  /**
   * While a notice is out (ApprovalNotified=True) its resolution may already have happened: a fresh process
   * (`once` under cron) only lists pending approvals, so ask for the resolved ones to send the follow-up.
   */
  wants(_task, status) {
    return isTrue(status.conditions, APPROVAL_NOTIFIED) ? { resolvedApprovals: true } : undefined;
  },

  plan(snap: TaskSnapshot): PlanResult {
    const { task, status } = snap;
    if (!snap.boundFields.has(CONDITIONS_FIELD)) return { actions: [] };
    const owned = snap.approvals
      .filter((a) => ownerOf(a) === task.id)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));

    // The kit marked the task, not the approval. Trust its flag for approvals older than our first run on
    // this board, as long as we have never announced anything on this task ourselves.
    const legacyFlag =
      truthyFlag(task.fields[NOTIFIED_FIELD]) && !owned.some((a) => status.ledger[noticeKey(a.id)] !== undefined);
    const firstRunAt = snap.global.firstRunAt[snap.boardId];

    const actions: Action[] = [];
    let requeueAfterMs: number | undefined;
    const stillPending = owned.filter((a) => a.status === 'pending');
    for (const approval of owned) {
      const announced = status.ledger[noticeKey(approval.id)];
      if (approval.status === 'pending') {
        if (announced?.s === 'done') continue;
        if (legacyFlag && !announced) {
          if (firstRunAt === undefined) {
            requeueAfterMs = FIRST_RUN_UNKNOWN_REQUEUE_MS;
            continue;
          }
          if (approval.createdAt < firstRunAt) continue;
        }
        actions.push(notice(snap, approval));
      } else if (announced) {
        // pending counts too: the notice may have gone out before the crash that left it pending
        if (status.ledger[followUpKey(approval.id, approval.status)]?.s === 'done') continue;
        actions.push(followUp(snap, approval, stillPending.length === 0));
      }
    }
    return requeueAfterMs === undefined ? { actions } : { actions, requeueAfterMs };
  },
};

function notice(snap: TaskSnapshot, approval: Approval): Action {
  const { task, boardId, now } = snap;
  const key = noticeKey(approval.id);
  const message = noticeMessage(approval, task, taskLink(snap.settings.publicUrl, boardId, task.id), key, snap.settings.locale);
  return {
    type: 'discord.post',
    key: taskKey(boardId, task.id),
    reconciler: NAME,
    reason: `approval ${approval.id} is pending and not yet announced`,
    idempotencyKey: key,
    purpose: 'approvals',
    content: message.content,
    ...(message.embeds ? { embeds: message.embeds } : {}),
    task: { boardId, taskId: task.id },
    after: {
      // kept for the kit's readers; the ledger, not this flag, decides what is announced
      fields: snap.boundFields.has(NOTIFIED_FIELD) ? { [NOTIFIED_FIELD]: true } : undefined,
      conditions: [
        { type: APPROVAL_NOTIFIED, status: 'True', reason: 'Notified', message: `approval ${approval.id} announced` },
      ],
      ledger: { [key]: { s: 'done', at: now } },
      comment: `${MARKER} approvals: approval ${approval.id} announced on Discord`,
    },
  };
}

function followUp(snap: TaskSnapshot, approval: Approval, nonePending: boolean): Action {
  const { task, boardId, now } = snap;
  const key = followUpKey(approval.id, approval.status);
  const message = followUpMessage(approval, task, taskLink(snap.settings.publicUrl, boardId, task.id), key);
  return {
    type: 'discord.post',
    key: taskKey(boardId, task.id),
    reconciler: NAME,
    reason: `announced approval ${approval.id} was ${approval.status}; posting a follow-up`,
    idempotencyKey: key,
    purpose: 'approvals',
    content: message.content,
    task: { boardId, taskId: task.id },
    after: {
      conditions: nonePending
        ? [
            {
              type: APPROVAL_NOTIFIED,
              status: 'False',
              reason: 'Resolved',
              message: `approval ${approval.id} ${approval.status}; none pending`,
            },
          ]
        : undefined,
      ledger: { [key]: { s: 'done', at: now } },
    },
  };
}

export { unlinkedApprovalsReconciler } from './unlinked.js';
