import {
  awaitingApproval,
  BLOCKED,
  consumedActivity,
  DONE_AWAITING_APPROVAL,
  doneVerdict,
  F,
  findCondition,
  flips,
  idempotencyKey,
  isTrue,
  linkedSessionKey,
  MARKER,
  SESSION_SEEN,
  taskKey,
  transition,
  transitionText,
  WATCHDOG_FLAGS,
  type Action,
  type ConditionInput,
  type DoneVerdict,
  type PlanResult,
  type Session,
  type TaskChange,
  type TaskReconciler,
  type TaskSnapshot,
} from '../../src/model/index.js';
import { classify, finalAssistantText, lastActivity } from './activity.js';

export const NAME = 'watchdog';

const ABNORMAL = (s: TaskSnapshot['status']) =>
  isTrue(s.conditions, 'Stalled') ||
  isTrue(s.conditions, 'AwaitingApproval') ||
  isTrue(s.conditions, 'Failed') ||
  isTrue(s.conditions, 'SessionLost') ||
  findCondition(s.conditions, 'SessionLinked')?.status === 'False';

const min = (a: number | undefined, b: number): number => (a === undefined ? b : Math.min(a, b));

/** In scope: in_progress tasks we watch, and review tasks the watchdog itself put there. */
export function inScope(s: TaskSnapshot): boolean {
  if (s.task.status === 'review') return ABNORMAL(s.status);
  if (s.task.status !== 'in_progress') return false;
  if (s.settings.watchdog.scope === 'all') return true;
  return linkedSessionKey(s.task) !== null || 'flow:created' in s.status.ledger || ABNORMAL(s.status);
}

class Plan {
  readonly actions: Action[] = [];
  requeueAfterMs: number | undefined;
  constructor(readonly s: TaskSnapshot) {}

  get flag(): unknown {
    return this.s.task.fields[F.lastError];
  }

  /** Clears mc_last_error when it holds one of the given watchdog flags. */
  clearFlag(...flags: string[]): Record<string, unknown> {
    return typeof this.flag === 'string' && flags.includes(this.flag) ? { [F.lastError]: null } : {};
  }

  /** Back to in_progress only from a review the watchdog caused. */
  resume(): Pick<TaskChange, 'status'> {
    return this.s.task.status === 'review' ? { status: 'in_progress' } : {};
  }

  move(condition: ConditionInput, reason: string, comment: string | undefined, change: Omit<TaskChange, 'conditions' | 'comment'> = {}, also: ConditionInput[] = []): void {
    if (!flips(this.s.status, condition)) return;
    this.actions.push(transition({ reconciler: NAME, task: this.s.task, status: this.s.status, condition, also, reason, ...(comment ? { comment } : {}), change }));
  }

  after(ms: number): void {
    // A short floor only guards against a requeue storm from a deadline that is already due; a stall
    // deadline is otherwise met to the tick (a 1 s floor made crossings up to a second late).
    this.requeueAfterMs = min(this.requeueAfterMs, Math.max(100, ms));
  }
}

function missingKey(p: Plan): void {
  const { task, settings, now } = p.s;
  if (task.status !== 'in_progress') return;
  const since = task.inProgressAt ?? task.updatedAt;
  const graceEnd = since + settings.watchdog.missingKeyGraceMinutes * 60_000;
  if (now < graceEnd) return p.after(graceEnd - now);
  p.move(
    { type: 'SessionLinked', status: 'False', reason: 'MissingSessionKey', message: 'in_progress without mc_session_key' },
    `in_progress for ${Math.round((now - since) / 60_000)} min without mc_session_key`,
    'Task is in progress without mc_session_key: link its session with `mc-controller task link <taskId> <sessionKey>` (or re-spawn). Moved to review.',
    { status: 'review', fields: { [F.lastError]: 'missing_session_key' } },
  );
}

function lost(p: Plan, key: string, why: 'SessionFailed' | 'SessionKilled' | 'SessionMissing'): void {
  const { task, settings, now, status } = p.s;
  const max = settings.watchdog.maxRetries;
  const raw = Number(task.fields[F.retryCount]);
  const retries = Number.isInteger(raw) && raw > 0 ? raw : 0;
  const what = why === 'SessionMissing' ? 'is missing from the gateway' : why === 'SessionKilled' ? 'was killed' : 'failed';
  if (retries >= max) {
    p.move(
      { type: 'Failed', status: 'True', reason: 'RetriesExhausted', message: `session ${key} ${what} after ${retries} recovery attempt(s)` },
      `session ${what}; ${retries}/${max} recovery attempts used`,
      `Session ${key} ${what} after ${retries} recovery attempt(s): needs approval for manual action (re-spawn and \`task link\`).`,
      { status: 'review', fields: { [F.lastError]: 'needs_approval' } },
    );
    return;
  }
  const last = status.ledger['watchdog:lost'];
  const interval = settings.watchdog.retryIntervalSeconds * 1000;
  if (last && now - last.at < interval) return p.after(interval - (now - last.at));
  const attempt = retries + 1;
  const change: TaskChange = {
    fields: { [F.retryCount]: attempt, [F.lastError]: 'retry' },
    conditions: [{ type: 'SessionLost', status: 'True', reason: why, message: `session ${key} ${what}; recovery attempt ${attempt}/${max}` }],
    ledger: { 'watchdog:lost': { s: 'done', at: now, n: attempt } },
    comment: `${MARKER} Session ${key} ${what}; recovery attempt ${attempt}/${max}: re-spawn the work or link a new session.`,
  };
  p.actions.push({
    type: 'task.patch',
    key: taskKey(task.boardId, task.id),
    reconciler: NAME,
    reason: `session ${what}; counting recovery attempt ${attempt}/${max}`,
    idempotencyKey: idempotencyKey(task.id, NAME, 'retry', key, attempt),
    boardId: task.boardId,
    taskId: task.id,
    change,
  });
  if (interval > 0) p.after(interval);
}

/**
 * Where a finished session takes its task: review for a human, or — with MC_DONE_ON_SESSION_END — done
 * when the board's gate lets it through; a gated done waits in review as Blocked=DoneAwaitingApproval,
 * the same state an agent's own done report leaves, so one rule finishes both once an approval is approved.
 */
function completed(p: Plan, key: string): void {
  const s = p.s;
  if (s.status.ledger['watchdog:completed']?.ext === key) return;
  const summary = s.task.fields[F.outputSummary];
  const fallback = typeof summary === 'string' && summary.trim() ? null : finalAssistantText(s.gateway?.history.get(key));
  const wantsDone = s.settings.watchdog.doneOnSessionEnd;
  // Without the board's rules nothing says done would be accepted: a human looks instead.
  const verdict: DoneVerdict = !wantsDone ? { status: 'review', rule: null } : s.board ? doneVerdict(s.task, s.board, s.approvals, s.status) : { status: 'review', rule: 'board rules unknown' };
  const target = verdict.status;
  const waits = wantsDone && verdict.rule !== null;
  const how = waits ? `${transitionText(s.task.status, target, verdict.rule)}.` : `Moved to ${target}${target === 'review' ? ' for a human check' : ''}.`;
  p.move(
    { type: 'Completed', status: 'True', reason: 'SessionFinished', message: `session ${key} finished` },
    `session finished; task to ${target}${waits ? ` (${verdict.rule})` : ''}`,
    `Session ${key} finished. ${how}`,
    {
      ...(s.task.status !== target ? { status: target } : {}),
      fields: { ...p.clearFlag(...WATCHDOG_FLAGS), ...(fallback ? { [F.outputSummary]: fallback.slice(0, 4000) } : {}) },
      ledger: { 'watchdog:completed': { s: 'done', at: s.now, ext: key } },
    },
    waits && verdict.rule !== null ? [awaitingApproval('the session finished', verdict.rule)] : [],
  );
}

function running(p: Plan, key: string, session: Session): void {
  const s = p.s;
  const gw = s.gateway!;
  const children = gw.children.get(key) ?? [];
  const childKeys = new Set(children.map((c) => c.key));
  const pending = gw.execApprovals.find((a) => a.sessionKey === key || (a.sessionKey !== undefined && childKeys.has(a.sessionKey)));
  if (isTrue(s.status.conditions, 'SessionLost'))
    p.move({ type: 'SessionLost', status: 'False', reason: 'SessionRunning', message: '' }, 'a live session is linked again', undefined, {
      fields: p.clearFlag('retry'),
    });
  if (isTrue(s.status.conditions, 'Failed'))
    p.move({ type: 'Failed', status: 'False', reason: 'Recovered', message: '' }, 'a live session is linked again', `Session ${key} is running again.`, {
      ...p.resume(),
      fields: p.clearFlag('needs_approval'),
    });
  if (pending) {
    const cmd = pending.command ?? 'a command';
    p.move(
      { type: 'AwaitingApproval', status: 'True', reason: 'ExecApprovalPending', message: `exec approval ${pending.id}: ${cmd}` },
      'the session waits on a gateway exec approval',
      `Session ${key} is waiting for an exec approval on the gateway: \`${cmd.slice(0, 200)}\`. Moved to review.`,
      { status: 'review', fields: { [F.lastError]: 'needs_approval' } },
    );
    if (pending.expiresAtMs && pending.expiresAtMs > s.now) p.after(pending.expiresAtMs - s.now);
    return;
  }
  if (isTrue(s.status.conditions, 'AwaitingApproval'))
    p.move({ type: 'AwaitingApproval', status: 'False', reason: 'ApprovalResolved', message: '' }, 'the exec approval was resolved', 'Exec approval resolved; back to in_progress.', {
      ...p.resume(),
      fields: p.clearFlag('needs_approval'),
    });

  const activity = maxKnown(lastActivity(session, children, gw.history.get(key)), consumedActivity(s.status.ledger[SESSION_SEEN], session));
  if (activity === null) return;
  const threshold = s.settings.watchdog.stalledMinutes * 60_000;
  const age = s.now - activity;
  if (age >= threshold) {
    p.move(
      { type: 'Stalled', status: 'True', reason: 'NoActivity', message: `no activity for ${Math.floor(age / 60_000)} min` },
      `no session activity for ${Math.floor(age / 60_000)} min (threshold ${s.settings.watchdog.stalledMinutes})`,
      `No activity on session ${key} for ${Math.floor(age / 60_000)} min: marked stalled for review.`,
      { status: 'review', fields: { [F.lastError]: 'stalled' } },
    );
  } else {
    if (isTrue(s.status.conditions, 'Stalled'))
      p.move(
        { type: 'Stalled', status: 'False', reason: 'ActivityResumed', message: '' },
        'session activity resumed',
        `Activity resumed on session ${key} ${Math.round(age / 1000)} s ago; back to in_progress.`,
        { ...p.resume(), fields: p.clearFlag('stalled') },
      );
    p.after(threshold - age);
  }
}

/** A task the agent reported done that waits in review on the board's done gate (not one the watchdog put there). */
const waitsOnGate = (s: TaskSnapshot): boolean =>
  s.task.status === 'review' && !ABNORMAL(s.status) && findCondition(s.status.conditions, BLOCKED)?.reason === DONE_AWAITING_APPROVAL && isTrue(s.status.conditions, BLOCKED);

/**
 * The run's end is still news for a task waiting on the gate: the agent's done report and the session's end
 * arrive as separate pushes, and whichever comes first, the task ends with the same conditions. Nothing moves.
 */
function finishedWhileGated(p: Plan): void {
  const key = linkedSessionKey(p.s.task);
  const session = key ? p.s.gateway?.sessions.get(key) : undefined;
  if (!key || !session || !p.s.gateway?.synced || classify(session) !== 'done') return;
  if (p.s.status.ledger['watchdog:completed']?.ext === key) return;
  p.move({ type: 'Completed', status: 'True', reason: 'SessionFinished', message: `session ${key} finished` }, 'session finished while the task waits for approval of done', undefined, {
    ledger: { 'watchdog:completed': { s: 'done', at: p.s.now, ext: key } },
  });
}

export function plan(s: TaskSnapshot): PlanResult {
  if (waitsOnGate(s)) {
    const p = new Plan(s);
    finishedWhileGated(p);
    return result(p);
  }
  if (!inScope(s)) return { actions: [] };
  const p = new Plan(s);
  const key = linkedSessionKey(s.task);
  if (!key) {
    missingKey(p);
    return result(p);
  }
  if (findCondition(s.status.conditions, 'SessionLinked')?.status !== 'True')
    p.move(
      { type: 'SessionLinked', status: 'True', reason: 'Linked', message: `linked to ${key}` },
      'the task carries mc_session_key',
      findCondition(s.status.conditions, 'SessionLinked') ? `Session ${key} linked; watching it again.` : undefined,
      { ...(findCondition(s.status.conditions, 'SessionLinked') ? p.resume() : {}), fields: p.clearFlag('missing_session_key') },
    );
  const gw = s.gateway;
  // Without a synced gateway nothing can be said about the session: keep the last known conditions.
  if (!gw || !gw.synced) return result(p);
  const session = gw.sessions.get(key);
  if (!session) {
    const graceEnd = (gw.startedAt ?? s.now) + s.settings.watchdog.sessionMissingGraceSeconds * 1000;
    if (s.now < graceEnd) p.after(graceEnd - s.now);
    else lost(p, key, 'SessionMissing');
    return result(p);
  }
  const state = classify(session);
  if (state === 'done') completed(p, key);
  else if (state === 'lost') lost(p, key, session.status === 'killed' ? 'SessionKilled' : 'SessionFailed');
  else if (state === 'running') running(p, key, session);
  return result(p);
}

function result(p: Plan): PlanResult {
  return { actions: p.actions, ...(p.requeueAfterMs !== undefined ? { requeueAfterMs: p.requeueAfterMs } : {}) };
}

/** Chat history only when it can change the verdict: a finished run without a summary, or a row that looks stalled. */
const maxKnown = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/**
 * A transcript the ledger says was read at the session's current version adds nothing new: its newest
 * message time is in the ledger (SESSION_SEEN), and a completed run's summary was already taken.
 */
function wants(task: TaskSnapshot['task'], status: TaskSnapshot['status'], s: Omit<TaskSnapshot, 'comments'>) {
  const snapshot = s as TaskSnapshot;
  if (!inScope(snapshot)) return undefined;
  const key = linkedSessionKey(snapshot.task);
  const session = key ? s.gateway?.sessions.get(key) : undefined;
  if (!key || !session) return undefined;
  const state = classify(session);
  if (state === 'done') {
    if (status.ledger['watchdog:completed']?.ext === key) return undefined;
    const summary = task.fields[F.outputSummary];
    return typeof summary === 'string' && summary.trim() ? undefined : { history: [key] };
  }
  if (state !== 'running') return undefined;
  const known = consumedActivity(status.ledger[SESSION_SEEN], session);
  const activity = maxKnown(lastActivity(session, s.gateway?.children.get(key) ?? [], undefined), known);
  const looksStalled = activity !== null && s.now - activity >= s.settings.watchdog.stalledMinutes * 60_000;
  return looksStalled && known === null ? { history: [key] } : undefined;
}

export const watchdog: TaskReconciler = { scope: 'task', name: NAME, wants, plan };
