import {
  globalKey,
  type Action,
  type Approval,
  type GlobalReconciler,
  type GlobalSnapshot,
  type GlobalWants,
  type LedgerEntry,
  type PlanResult,
  type PostedQuery,
} from '../../src/model/index.js';
import { followUpMessage, noticeMessage, taskLink } from './format.js';
import { followUpKey, noticeKey } from './keys.js';

export const UNLINKED_NAME = 'approvals-unlinked';
export const UNLINKED_KEY = globalKey('approvals');

/**
 * No task on the board owns it: linked to none, or only to tasks that were deleted since (their ledger went
 * with them, so without this the approval would never be announced).
 */
function unlinked(board: GlobalSnapshot['boards'][number]): Approval[] {
  const onBoard = new Set(board.tasks.map((t) => t.id));
  return board.approvals.filter((a) => [a.taskId, ...a.taskIds].every((id) => !id || !onBoard.has(id)));
}

/** Discord and Mission Control clocks differ: search a little further back than the approval's creation. */
const CLOCK_SLACK_MS = 5 * 60_000;

type Ledger = Record<string, LedgerEntry | undefined>;
const ledgerOf = (snap: GlobalSnapshot): Ledger => (snap.global['ledger'] ?? {}) as Ledger;

/**
 * The state file's ledger is only a cache (a new pod or a lost folder starts empty), so whatever it does not
 * know as done is looked up in the channel: the notice of a pending approval, and for a resolved one its
 * notice (was it announced at all? final once absent) and its follow-up.
 */
export function unlinkedWants(snap: GlobalSnapshot): GlobalWants | undefined {
  const ledger = ledgerOf(snap);
  const queries: PostedQuery[] = [];
  for (const board of snap.boards) {
    for (const approval of unlinked(board)) {
      const since = approval.createdAt - CLOCK_SLACK_MS;
      const notice = noticeKey(approval.id);
      if (approval.status === 'pending') {
        if (ledger[notice]?.s !== 'done') queries.push({ key: notice, since });
        continue;
      }
      const followUp = followUpKey(approval.id, approval.status);
      if (ledger[followUp]?.s === 'done') continue;
      if (!ledger[notice]) queries.push({ key: notice, since, final: true });
      queries.push({ key: followUp, since });
    }
  }
  return queries.length > 0 ? { posted: { purpose: 'approvals', queries } } : undefined;
}

/**
 * Approvals linked to no task: no task ledger can own their notice, so the global ledger (the state file)
 * records it, and the channel itself is the record when that file is lost or fresh (see unlinkedWants):
 * otherwise the same one-notice-per-approval and one-follow-up rules as the task planner.
 */
export function planUnlinkedApprovals(snap: GlobalSnapshot): PlanResult {
  const ledger = ledgerOf(snap);
  const posted = (key: string): boolean => ledger[key]?.s === 'done' || Boolean(snap.posted?.has(key));
  const actions: Action[] = [];
  for (const board of snap.boards) {
    const link = taskLink(snap.settings.publicUrl, board.boardId, null);
    for (const approval of unlinked(board)) {
      const key = noticeKey(approval.id);
      if (approval.status === 'pending') {
        if (posted(key)) continue;
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
      } else if (ledger[key] || snap.posted?.has(key)) {
        const followUp = followUpKey(approval.id, approval.status);
        if (posted(followUp)) continue;
        actions.push({
          type: 'discord.post',
          key: UNLINKED_KEY,
          reconciler: UNLINKED_NAME,
          reason: `announced approval ${approval.id} (no linked task) was ${approval.status}; posting a follow-up`,
          idempotencyKey: followUp,
          purpose: 'approvals',
          content: followUpMessage(approval, null, link, followUp).content,
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
  wants: unlinkedWants,
  plan: planUnlinkedApprovals,
};
