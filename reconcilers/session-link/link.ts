import {
  F,
  findCondition,
  isTrue,
  linkedSessionKey,
  patch,
  type ConditionInput,
  type ControllerStatus,
  type Task,
  type TaskChange,
  type TaskPatchAction,
  type TaskStatus,
  WATCHDOG_FLAGS,
} from '../../src/model/index.js';


/** Conditions about the previous session that a newly linked one makes moot. */
const ABOUT_OLD_SESSION = ['SessionLost', 'Failed', 'Stalled', 'AwaitingApproval'] as const;

export interface LinkRequest {
  reconciler: string;
  task: Task;
  status: ControllerStatus;
  sessionKey: string;
  /** the status the task should have once linked; undefined keeps it */
  targetStatus?: TaskStatus;
  /** why, for the comment: "by `mc-controller task link`", "automatically: the session's label is the task id" */
  how: string;
}

/**
 * The change that links a task to a session and clears the missing-key and recovery bookkeeping, or null
 * when the task is already in that state (so a repeated link writes nothing, not even a comment).
 */
export function linkAction(r: LinkRequest): TaskPatchAction | null {
  const { task, status, sessionKey } = r;
  const fields: Record<string, unknown> = {};
  if (linkedSessionKey(task) !== sessionKey) fields[F.sessionKey] = sessionKey;
  const lastError = task.fields[F.lastError];
  if (typeof lastError === 'string' && WATCHDOG_FLAGS.has(lastError)) fields[F.lastError] = null;
  const retries = task.fields[F.retryCount];
  if (retries !== undefined && retries !== null && retries !== 0) fields[F.retryCount] = 0;

  const conditions: ConditionInput[] = [];
  const linked = findCondition(status.conditions, 'SessionLinked');
  if (!linked || linked.status !== 'True' || linked.message !== `linked to ${sessionKey}`)
    conditions.push({ type: 'SessionLinked', status: 'True', reason: 'Linked', message: `linked to ${sessionKey}` });
  for (const type of ABOUT_OLD_SESSION)
    if (isTrue(status.conditions, type)) conditions.push({ type, status: 'False', reason: 'SessionRelinked', message: `session ${sessionKey} linked` });
  const ledger: TaskChange['ledger'] = {};
  if ('watchdog:lost' in status.ledger) ledger['watchdog:lost'] = null;

  const move = r.targetStatus && r.targetStatus !== task.status ? r.targetStatus : undefined;
  const changesState = Object.keys(fields).length > 0 || move !== undefined || conditions.some((c) => c.type !== 'SessionLinked');
  if (!changesState && conditions.length === 0 && Object.keys(ledger).length === 0) return null;
  const cleared = [
    ...(F.lastError in fields ? [`flag ${String(lastError)}`] : []),
    ...(F.retryCount in fields ? ['retry count'] : []),
    ...conditions.filter((c) => c.type !== 'SessionLinked').map((c) => c.type),
  ];
  const sentence = [
    `Session ${sessionKey} linked ${r.how}.`,
    ...(move ? [`Status ${task.status} → ${move}.`] : []),
    ...(cleared.length > 0 ? [`Cleared: ${cleared.join(', ')}.`] : []),
  ].join(' ');
  // A pure condition refresh (the watchdog's own SessionLinked bookkeeping) needs no comment.
  return patch(r.reconciler, task, move ? `link session ${sessionKey}; status to ${move}` : `link session ${sessionKey}`, {
    ...(move ? { status: move } : {}),
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
    ...(conditions.length > 0 ? { conditions } : {}),
    ...(Object.keys(ledger).length > 0 ? { ledger } : {}),
    ...(changesState ? { comment: sentence } : {}),
  });
}
