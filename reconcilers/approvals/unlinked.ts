import {
  globalKey,
  type Action,
  type Approval,
  type GlobalReconciler,
  type GlobalSnapshot,
  type LedgerEntry,
  type PlanResult,
} from '../../src/model/index.js';
import { followUpMessage, noticeMessage, taskLink } from './format.js';
import { followUpKey, noticeKey } from './keys.js';

export const UNLINKED_NAME = 'approvals-unlinked';
export const UNLINKED_KEY = globalKey('approvals');

/**
 * No task on the board owns it: linked to none, or only to tasks that were deleted since (their ledger went
 * with them, so without this the approval would never be announced).
 */
const unlinked = (a: Approval, onBoard: ReadonlySet<string>): boolean => [a.taskId, ...a.taskIds].every((id) => !id || !onBoard.has(id));

/**
 * Approvals linked to no task: no task ledger can own their notice, so the controller's global ledger (the
 * state file) does; otherwise the same one-notice-per-approval and one-follow-up rules as the task planner.
 */
export function planUnlinkedApprovals(snap: GlobalSnapshot): PlanResult {
  const ledger = (snap.global['ledger'] ?? {}) as Record<string, LedgerEntry | undefined>;
  const actions: Action[] = [];
  for (const board of snap.boards) {
    const link = taskLink(snap.settings.publicUrl, board.boardId, null);
    const onBoard = new Set(board.tasks.map((t) => t.id));
    for (const approval of board.approvals.filter((a) => unlinked(a, onBoard))) {
      const announced = ledger[noticeKey(approval.id)];
      if (approval.status === 'pending') {
        if (announced?.s === 'done') continue;
        const key = noticeKey(approval.id);
        const message = noticeMessage(approval, null, link, key, snap.settings.locale);
        actions.push({
          type: 'discord.post',
          key: UNLINKED_KEY,
          reconciler: UNLINKED_NAME,
          reason: `approval ${approval.id} (no linked task) is pending and not yet announced`,
          idempotencyKey: key,
          purpose: 'approvals',
          content: message.content,
          ...(message.embeds ? { embeds: message.embeds } : {}),
        });
      } else if (announced) {
        const key = followUpKey(approval.id, approval.status);
        if (ledger[key]?.s === 'done') continue;
        actions.push({
          type: 'discord.post',
          key: UNLINKED_KEY,
          reconciler: UNLINKED_NAME,
          reason: `announced approval ${approval.id} (no linked task) was ${approval.status}; posting a follow-up`,
          idempotencyKey: key,
          purpose: 'approvals',
          content: followUpMessage(approval, null, link, key).content,
        });
      }
    }
  }
  return { actions };
}

export const unlinkedApprovalsReconciler: GlobalReconciler = {
  scope: 'global',
  name: UNLINKED_NAME,
  key: UNLINKED_KEY,
  plan: planUnlinkedApprovals,
};
