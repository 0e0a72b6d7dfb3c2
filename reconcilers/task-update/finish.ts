import {
  APPROVAL_REJECTED,
  awaitingApproval,
  BLOCKED,
  blockedBy,
  DONE_AWAITING_APPROVAL,
  doneVerdict,
  findCondition,
  refusedKey,
  rejectedApproval,
  transition,
  transitionText,
  type ControllerStatus,
  type Task,
  type TaskPatchAction,
  type TaskSnapshot,
} from '../../src/model/index.js';
import { NAME } from './map.js';

/**
 * The default board's second half: the agent (or, with MC_DONE_ON_SESSION_END, its finished session) said
 * done, the board's gate kept the task in review as Blocked=DoneAwaitingApproval. An approved linked approval
 * finishes the job — the task moves to done and delivery follows; a rejected one leaves it in review and says so.
 */

/** The task waits on an approval: its done was held by the gate (or the approval it waited on was rejected). */
export function waitsOnApproval(task: Task, status: ControllerStatus): boolean {
  if (task.status === 'done') return false;
  const b = findCondition(status.conditions, BLOCKED);
  return b?.status === 'True' && (b.reason === DONE_AWAITING_APPROVAL || b.reason === APPROVAL_REJECTED);
}

export function finish(s: TaskSnapshot): TaskPatchAction[] {
  const { task, status, approvals } = s;
  if (!waitsOnApproval(task, status)) return [];
  const blocked = findCondition(status.conditions, BLOCKED)!;
  const approved = approvals.filter((a) => a.status === 'approved').sort((a, b) => (b.resolvedAt ?? b.createdAt) - (a.resolvedAt ?? a.createdAt))[0];
  const verdict = doneVerdict(task, s.board, approvals, status);
  const base = { reconciler: NAME, task, status };
  if (approved && verdict.status === 'done') {
    return [
      transition({
        ...base,
        condition: { type: BLOCKED, status: 'False', reason: 'Approved', message: `approval ${approved.id} approved` },
        reason: `approval ${approved.id} approved; the gate lets the reported done through`,
        comment: `Approval ${approved.id} approved. Status: ${transitionText(task.status, 'done', null)}.`,
        change: { status: 'done', ledger: { [refusedKey('done')]: null } },
      }),
    ];
  }
  const rejected = rejectedApproval(approvals);
  if (rejected && blocked.reason !== APPROVAL_REJECTED) {
    return [
      transition({
        ...base,
        condition: blockedBy(APPROVAL_REJECTED, `approval ${rejected.id} rejected; done refused`),
        reason: `approval ${rejected.id} rejected; the task stays out of done`,
        comment: `Approval ${rejected.id} rejected: the task stays in ${task.status} (done refused). Rework it, or create a new approval.`,
      }),
    ];
  }
  // A new approval after a rejection: waiting again, on that one.
  const pending = approvals.find((a) => a.status === 'pending');
  if (pending && blocked.reason === APPROVAL_REJECTED) {
    return [
      transition({
        ...base,
        condition: awaitingApproval(`waiting for approval ${pending.id}`, verdict.rule ?? 'approval pending'),
        reason: `approval ${pending.id} pending after a rejection; waiting on it`,
      }),
    ];
  }
  return [];
}
