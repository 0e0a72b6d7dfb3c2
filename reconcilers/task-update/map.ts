import {
  awaitingApproval,
  BLOCKED,
  blockedBy,
  doneVerdict,
  F,
  idempotencyKey,
  isTrue,
  MARKER,
  taskKey,
  transitionText,
  WATCHDOG_FLAGS,
  type Approval,
  type Board,
  type ConditionInput,
  type ControllerStatus,
  type Task,
  type TaskChange,
  type TaskPatchAction,
  type TaskStatus,
} from '../../src/model/index.js';
import { normalised, type TaskUpdate } from './parse.js';

export const NAME = 'task-update';

export { BLOCKED } from '../../src/model/index.js';

/** Flags the watchdog owns in mc_last_error: an agent's success report never clears those (the watchdog does). */

type Kind = 'in_progress' | 'done' | 'failed' | 'blocked' | 'awaiting_human' | 'needs_approval' | 'review' | 'unknown';

const KINDS: Record<string, Kind> = {
  in_progress: 'in_progress',
  inprogress: 'in_progress',
  running: 'in_progress',
  running_task: 'in_progress',
  active: 'in_progress',
  started: 'in_progress',
  working: 'in_progress',
  done: 'done',
  completed: 'done',
  complete: 'done',
  finished: 'done',
  success: 'done',
  failed: 'failed',
  failure: 'failed',
  error: 'failed',
  blocked: 'blocked',
  blocked_waiting: 'blocked',
  dependency_waiting: 'blocked',
  awaiting_human: 'awaiting_human',
  awaitinghuman: 'awaiting_human',
  needs_approval: 'needs_approval',
  needsapproval: 'needs_approval',
  awaiting_approval: 'needs_approval',
  requires_approval: 'needs_approval',
  review: 'review',
  needs_review: 'review',
  waiting: 'review',
};

/** The kit's status words onto the board's four statuses (plus a condition); unknown words keep the status. */
export function kindOf(status: string | undefined): Kind {
  if (status === undefined) return 'in_progress';
  return KINDS[status] ?? 'unknown';
}

export interface MirrorContext {
  task: Task;
  status: ControllerStatus;
  board: Board | null;
  approvals: readonly Approval[];
  now: number;
  /** where the block came from, for the comment: a session key or "the CLI" */
  source: string;
}

/** Ledger key that marks a block as applied to a task. */
export const blockId = (taskId: string, u: TaskUpdate): string => idempotencyKey(taskId, NAME, normalised(u));
export const ledgerKey = (taskId: string, u: TaskUpdate): string => `tu:${blockId(taskId, u).slice(0, 16)}`;

export const alreadyApplied = (taskId: string, status: ControllerStatus, u: TaskUpdate): boolean => ledgerKey(taskId, u) in status.ledger;

interface Running {
  taskStatus: TaskStatus;
  lastError: unknown;
  blocked: boolean;
}

/** One update as a task change, given the state the earlier updates of this pass left behind. */
function changeFor(ctx: MirrorContext, u: TaskUpdate, run: Running): { change: TaskChange; reason: string } {
  const kind = kindOf(u.status);
  const fields: Record<string, unknown> = {};
  const conditions: ConditionInput[] = [];
  const notes: string[] = [];
  let target: TaskStatus | undefined;
  let rule: string | null = null;
  const block = (reason: string, message: string) => {
    conditions.push(blockedBy(reason, message));
    run.blocked = true;
  };
  const unblock = () => {
    if (run.blocked) conditions.push({ type: BLOCKED, status: 'False', reason: 'Resumed', message: '' });
    run.blocked = false;
  };

  if (u.progress !== undefined) fields[F.progress] = u.progress;
  if (u.cost !== undefined) fields[F.actualCost] = u.cost;
  switch (kind) {
    case 'in_progress':
      // Back from review only when our own report put it there; a human's or the watchdog's review stands.
      if (run.taskStatus === 'inbox' || (run.taskStatus === 'review' && run.blocked)) target = 'in_progress';
      unblock();
      break;
    case 'done': {
      // the board's done gate decides; a gated done waits in review
      const d = doneVerdict(ctx.task, ctx.board, ctx.approvals, ctx.status);
      target = d.status;
      if (d.rule) {
        conditions.push(awaitingApproval('the agent reported done', d.rule));
        run.blocked = true;
        rule = d.rule;
      } else unblock();
      if (u.summary) fields[F.outputSummary] = u.summary.slice(0, 4000);
      break;
    }
    case 'failed':
      target = 'review';
      block('AgentFailed', (u.error ?? u.summary ?? 'the agent reported failure').slice(0, 500));
      if (u.summary) fields[F.outputSummary] = u.summary.slice(0, 4000);
      fields[F.lastError] = (u.error ?? u.summary ?? 'failed').slice(0, 500);
      break;
    case 'blocked':
    case 'awaiting_human':
    case 'needs_approval': {
      target = 'review';
      const reason = kind === 'blocked' ? 'AgentBlocked' : kind === 'awaiting_human' ? 'AwaitingHuman' : 'NeedsApproval';
      block(reason, (u.reviewReason ?? u.error ?? u.summary ?? `the agent reported ${u.status}`).slice(0, 500));
      break;
    }
    case 'review':
      target = 'review';
      unblock();
      break;
    case 'unknown':
      notes.push(`unknown status "${u.status}": status kept`);
      break;
  }
  if (u.error && kind !== 'failed') fields[F.lastError] = u.error.slice(0, 500);
  // Success clears an error an earlier report left, never a watchdog flag.
  if (!u.error && (kind === 'in_progress' || kind === 'done') && typeof run.lastError === 'string' && run.lastError && !WATCHDOG_FLAGS.has(run.lastError))
    fields[F.lastError] = null;
  // An agent report never reopens a finished task.
  if (target && (ctx.task.status === 'done' || target === run.taskStatus)) target = undefined;
  const from = run.taskStatus;
  if (target) run.taskStatus = target;
  if (F.lastError in fields) run.lastError = fields[F.lastError];

  const parts = [
    `TASK_UPDATE from ${ctx.source}: reported ${u.status ?? '(no status)'}`,
    ...(u.progress !== undefined ? [`progress ${u.progress}%`] : []),
    ...(u.cost !== undefined ? [`cost $${u.cost}`] : []),
  ];
  const lines = [`${MARKER} ${parts.join(', ')}.`];
  // The transition the task really makes, and the rule when the board keeps it from done.
  if (target || rule) lines.push(`Status: ${transitionText(from, target ?? from, rule)}.`);
  if (u.summary) lines.push(`Summary: ${u.summary.slice(0, 1000)}`);
  if (u.error) lines.push(`Error: ${u.error.slice(0, 500)}`);
  if (u.reviewReason) lines.push(`Review reason: ${u.reviewReason.slice(0, 500)}`);
  if (u.artifacts) lines.push(`Artifacts: ${u.artifacts.join(', ').slice(0, 1000)}`);
  for (const n of notes) lines.push(`Note: ${n}.`);
  return {
    change: { ...(target ? { status: target } : {}), fields, ...(conditions.length > 0 ? { conditions } : {}), comment: lines.join('\n') },
    reason: `mirror TASK_UPDATE (${u.status ?? 'no status'}${u.progress !== undefined ? `, ${u.progress}%` : ''}) from ${ctx.source}`,
  };
}

/**
 * The updates not yet applied to the task, as task patches (one comment each); the ledger entry per block
 * makes a second mirror of the same block a no-op, whoever runs it (loop or CLI).
 */
export function mirror(ctx: MirrorContext, updates: readonly TaskUpdate[], extraLedger: TaskChange['ledger'] = {}): TaskPatchAction[] {
  const run: Running = {
    taskStatus: ctx.task.status,
    lastError: ctx.task.fields[F.lastError],
    blocked: isTrue(ctx.status.conditions, BLOCKED),
  };
  const seen = new Set<string>();
  const actions: TaskPatchAction[] = [];
  for (const u of updates) {
    const key = ledgerKey(ctx.task.id, u);
    if (key in ctx.status.ledger || seen.has(key)) continue;
    seen.add(key);
    const { change, reason } = changeFor(ctx, u, run);
    actions.push({
      type: 'task.patch',
      key: taskKey(ctx.task.boardId, ctx.task.id),
      reconciler: NAME,
      reason,
      idempotencyKey: blockId(ctx.task.id, u),
      boardId: ctx.task.boardId,
      taskId: ctx.task.id,
      change: { ...change, ledger: { [key]: { s: 'done', at: ctx.now } } },
    });
  }
  const last = actions[actions.length - 1];
  if (last && extraLedger && Object.keys(extraLedger).length > 0) last.change.ledger = { ...last.change.ledger, ...extraLedger };
  return actions;
}
