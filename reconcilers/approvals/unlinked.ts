import {
  globalKey,
  idempotencyKey,
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
 * Global state key: ids of task-less approvals that may still owe a resolution follow-up. A fresh process
 * (`once` under cron) lists only pending approvals, so without this it would never see one resolved between
 * two runs; with it, it asks for the resolved rows while the list names an approval no longer pending.
 */
export const AWAITING_KEY = 'approvalsAwaitingFollowUp';

const awaitingOf = (snap: GlobalSnapshot): string[] => {
  const raw = snap.global[AWAITING_KEY];
  return Array.isArray(raw) ? raw.filter((x): x is string => typeof x === 'string') : [];
};

const unlinkedApprovals = (snap: GlobalSnapshot): Approval[] => snap.boards.flatMap((b) => unlinked(b));

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
  const inView = new Set(unlinkedApprovals(snap).filter((a) => a.status !== 'pending').map((a) => a.id));
  const pending = new Set(unlinkedApprovals(snap).filter((a) => a.status === 'pending').map((a) => a.id));
  const resolvedApprovals = awaitingOf(snap).some((id) => !pending.has(id) && !inView.has(id));
  if (queries.length === 0 && !resolvedApprovals) return undefined;
  return { ...(queries.length > 0 ? { posted: { purpose: 'approvals' as const, queries } } : {}), ...(resolvedApprovals ? { resolvedApprovals } : {}) };
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
  const awaiting = nextAwaiting(snap, posted);
  if (awaiting.join() !== [...awaitingOf(snap)].sort().join()) {
    actions.push({
      type: 'state.write',
      key: UNLINKED_KEY,
      reconciler: UNLINKED_NAME,
      reason: 'the task-less approvals that may still owe a resolution follow-up changed',
      idempotencyKey: idempotencyKey('approvals-awaiting-follow-up', awaiting),
      patch: { [AWAITING_KEY]: awaiting },
    });
  }
  return { actions };
}

/**
 * Every pending task-less approval (announced now or before), and a resolved one until its follow-up is
 * out; one never announced, or gone from the board (deleted), leaves the list.
 */
function nextAwaiting(snap: GlobalSnapshot, posted: (key: string) => boolean): string[] {
  const ledger = ledgerOf(snap);
  const byId = new Map(unlinkedApprovals(snap).map((a) => [a.id, a]));
  const next = new Set<string>();
  for (const a of byId.values()) if (a.status === 'pending') next.add(a.id);
  for (const id of awaitingOf(snap)) {
    const a = byId.get(id);
    if (!a || a.status === 'pending') continue;
    const announced = Boolean(ledger[noticeKey(id)]) || posted(noticeKey(id));
    if (announced && !posted(followUpKey(id, a.status))) next.add(id);
  }
  return [...next].sort();
}

export const unlinkedApprovalsReconciler: GlobalReconciler = {
  scope: 'global',
  name: UNLINKED_NAME,
  key: UNLINKED_KEY,
  wants: unlinkedWants,
  plan: planUnlinkedApprovals,
};
