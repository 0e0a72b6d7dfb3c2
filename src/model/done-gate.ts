import type { Approval, Board, Task, TaskStatus } from './board.js';
import type { ConditionInput, ControllerStatus, LedgerEntry } from './conditions.js';

/**
 * The board's done gate as Mission Control enforces it (upstream `api/tasks.py`, in this order: a pending
 * approval blocks any status change, then review-before-done, then approval-for-done). One vocabulary for
 * the planners that want a task done and for the executor that meets a 409, so a comment always names the
 * rule that actually decides.
 */

export const GATE_RULES = {
  pending: 'a pending approval blocks status changes',
  review: 'board requires review before done',
  approval: 'board requires an approved approval for done',
  dependencies: 'blocked by incomplete dependencies',
} as const;

/** Ledger key recording that the board refused a status (the rule's words in `ext`). */
export const refusedKey = (status: TaskStatus): string => `refused:${status}`;

const REFUSALS: ReadonlyArray<[RegExp, string]> = [
  [/cannot be changed while a linked approval is pending/i, GATE_RULES.pending],
  [/only be marked done from review/i, GATE_RULES.review],
  [/only be marked done when a linked approval has been approved/i, GATE_RULES.approval],
  [/blocked by incomplete dependencies/i, GATE_RULES.dependencies],
];

/** The rule behind a 409's message, in the words the planners use; an unknown message is kept as is. */
export function ruleOfRefusal(message: string | null): string {
  const text = (message ?? '').trim();
  return REFUSALS.find(([re]) => re.test(text))?.[1] ?? (text ? `board refused: ${text.slice(0, 200)}` : 'board refused the status');
}

/** When an approval last changed: a resolution, else its creation. */
const changedAt = (a: Approval): number => a.resolvedAt ?? a.createdAt;

/**
 * A recorded refusal still stands while nothing it depended on moved: the board's rules were not edited
 * after it and no linked approval was created or resolved after it. Otherwise the gate is judged afresh
 * (an approval approved later, a rule switched off) instead of keeping the task in review forever.
 */
export function standingRefusal(entry: LedgerEntry | undefined, board: Board | null, approvals: readonly Approval[]): string | null {
  if (!entry) return null;
  if (board && board.updatedAt > entry.at) return null;
  if (approvals.some((a) => changedAt(a) > entry.at)) return null;
  return entry.ext ?? 'the board refused done earlier';
}

export interface DoneVerdict {
  /** the status the task may take now: done when the gate lets it through, else review */
  status: Extract<TaskStatus, 'done' | 'review'>;
  /** the rule that keeps it from done, in GATE_RULES words; null when done is allowed */
  rule: string | null;
}

/** Whether the board would accept `task → done` now, judged from its rules, the linked approvals and past refusals. */
export function doneVerdict(task: Pick<Task, 'status'>, board: Board | null, approvals: readonly Approval[], status: ControllerStatus): DoneVerdict {
  const refused = standingRefusal(status.ledger[refusedKey('done')], board, approvals);
  if (refused) return { status: 'review', rule: refused };
  if (!board) return { status: 'done', rule: null };
  const gated = (rule: string): DoneVerdict => ({ status: 'review', rule });
  if (board.blockStatusChangesWithPendingApproval && task.status !== 'done' && approvals.some((a) => a.status === 'pending')) return gated(GATE_RULES.pending);
  if (board.requireReviewBeforeDone && task.status !== 'review') return gated(GATE_RULES.review);
  if (board.requireApprovalForDone && !approvals.some((a) => a.status === 'approved')) return gated(GATE_RULES.approval);
  return { status: 'done', rule: null };
}

/** The newest resolved approval among those linked, when none is pending or approved: the human said no. */
export function rejectedApproval(approvals: readonly Approval[]): Approval | null {
  if (approvals.some((a) => a.status === 'pending' || a.status === 'approved')) return null;
  const rejected = approvals.filter((a) => a.status === 'rejected').sort((a, b) => changedAt(b) - changedAt(a));
  return rejected[0] ?? null;
}

/** The Blocked reason of a task whose agent (or finished session) said done while the gate holds it. */
export const DONE_AWAITING_APPROVAL = 'DoneAwaitingApproval';
/** The Blocked reason once the approval the task waited on was rejected. */
export const APPROVAL_REJECTED = 'ApprovalRejected';

/** `in_progress → review: board requires an approved approval for done`, or `stays in review: …`. */
export function transitionText(from: TaskStatus, to: TaskStatus, rule: string | null): string {
  const move = from === to ? `stays in ${to}` : `${from} → ${to}`;
  return rule ? `${move}: ${rule}` : move;
}

/** True while the agent's own report (or its finished session) needs a human: failed, blocked, done awaiting approval. */
export const BLOCKED = 'Blocked';

/** Blocked=True with a reason: the agent's report (or its finished session) waits for a human. */
export const blockedBy = (reason: string, message: string): ConditionInput => ({ type: BLOCKED, status: 'True', reason, message });

/** A done the gate holds in review: `who` said done (the agent, a finished session), `rule` keeps it from done. */
export const awaitingApproval = (who: string, rule: string): ConditionInput => blockedBy(DONE_AWAITING_APPROVAL, `${who}; ${rule}`);
