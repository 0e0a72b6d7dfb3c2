import {
  CONDITIONS_FIELD,
  F,
  OWN_FIELDS,
  settle,
  statusText,
  hashOf,
  pruneLedger,
  setCondition,
  stableStringify,
  summarize,
  type Action,
  type ControllerStatus,
  type Task,
  type TaskChange,
  type TaskStatus,
} from '../model/index.js';

/** Ledger entries kept per task; the oldest go first. */
const LEDGER_LIMIT = 100;

export interface FieldDiff {
  field: string;
  from: unknown;
  to: unknown;
}

export interface MergedWrite {
  status?: TaskStatus;
  fields: Record<string, unknown>;
  comment?: string;
  diff: FieldDiff[];
  nextStatus: ControllerStatus;
}

const same = (a: unknown, b: unknown): boolean => stableStringify(a ?? null) === stableStringify(b ?? null);

/** The task's inputs, without the fields only the controller writes: our observedGeneration. */
export function inputsHash(task: Task, status: TaskStatus, fields: Record<string, unknown>): string {
  const inputs = Object.fromEntries(Object.entries(fields).filter(([k]) => !OWN_FIELDS.has(k)));
  return hashOf(task.title, task.description, status, task.assignedAgentId, inputs).slice(0, 16);
}

export interface MergeOptions {
  conditionsBound: boolean;
  /** `mc_status` is bound: write the derived line when it changes */
  statusTextBound?: boolean;
}

/**
 * Folds every change a pass planned for one task into one PATCH, or null when it would change nothing.
 * Later changes win on the same field or status; conditions follow Kubernetes transition semantics;
 * `mc_conditions` is rewritten only when conditions, ledger or the inputs hash moved.
 */
export function mergeChanges(
  task: Task,
  current: ControllerStatus,
  changes: readonly TaskChange[],
  now: number,
  opts: MergeOptions,
): MergedWrite | null {
  const own = changes.filter((c) => !c.rider);
  if (own.length === changes.length) return mergeAll(task, current, changes, now, opts);
  // Riders never make a write on their own: only a write the other changes make anyway carries them.
  if (!mergeAll(task, current, own, now, opts)) return null;
  return mergeAll(task, current, changes, now, opts);
}

function mergeAll(task: Task, current: ControllerStatus, changes: readonly TaskChange[], now: number, opts: MergeOptions): MergedWrite | null {
  let status: TaskStatus | undefined;
  const fields: Record<string, unknown> = {};
  const comments: string[] = [];
  let conditions = current.conditions;
  let ledger = { ...current.ledger };
  let statusChanged = false;
  let ledgerTouched = false;
  // A condition set by two changes in one pass (the watchdog flags a missing key while session-link links the
  // task) ends as the last one says; the earlier transition's comment would contradict it, so it is dropped.
  const lastSetter = new Map<string, number>();
  changes.forEach((c, i) => c.conditions?.forEach((cond) => lastSetter.set(cond.type, i)));
  const superseded = (i: number) => (changes[i]?.conditions ?? []).some((cond) => (lastSetter.get(cond.type) ?? i) > i);
  for (const [i, change] of changes.entries()) {
    if (change.status) status = change.status;
    Object.assign(fields, change.fields ?? {});
    if (change.comment && !superseded(i)) comments.push(change.comment);
    for (const c of change.conditions ?? []) {
      const r = setCondition(conditions, c, now);
      if (r.changed) {
        conditions = r.conditions;
        statusChanged = true;
      }
    }
    for (const [k, v] of Object.entries(change.ledger ?? {})) {
      if (v === null) {
        if (k in ledger) {
          delete ledger[k];
          ledgerTouched = true;
        }
      } else if (!same(ledger[k], v)) {
        ledger[k] = v;
        ledgerTouched = true;
      }
    }
  }
  // Every condition ends with the state it describes: a task that ends this write done keeps no abnormal one.
  const finalStatus = status ?? task.status;
  for (const c of settle(conditions, finalStatus)) {
    const r = setCondition(conditions, c, now);
    if (r.changed) {
      conditions = r.conditions;
      statusChanged = true;
    }
  }
  // Judged after pruning: an entry that pruning drops again is no change (and no write every pass).
  ledger = pruneLedger(ledger, LEDGER_LIMIT);
  if (ledgerTouched && !same(ledger, current.ledger)) statusChanged = true;
  if (statusChanged && conditions.length > 0) {
    const r = setCondition(conditions, summarize(conditions), now);
    conditions = r.conditions;
  }

  const diff: FieldDiff[] = [];
  const write: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (k === CONDITIONS_FIELD) continue;
    if (!same(task.fields[k], v)) {
      write[k] = v;
      diff.push({ field: k, from: task.fields[k] ?? null, to: v });
    }
  }
  const nextTaskStatus = status && status !== task.status ? status : undefined;
  if (nextTaskStatus) diff.push({ field: 'status', from: task.status, to: nextTaskStatus });
  if (opts.statusTextBound) {
    const line = statusText(finalStatus, conditions);
    const had = task.fields[F.statusText] ?? null;
    if (!same(had, line) && !(F.statusText in fields)) {
      write[F.statusText] = line;
      diff.push({ field: F.statusText, from: had, to: line });
    }
  }

  const managed = conditions.length > 0 || Object.keys(ledger).length > 0;
  const nextHash = managed ? inputsHash(task, nextTaskStatus ?? task.status, { ...task.fields, ...write }) : '';
  const nextStatus: ControllerStatus = { observedHash: nextHash, conditions, ledger };
  const conditionsMoved = statusChanged || (managed && nextHash !== current.observedHash);
  if (conditionsMoved && opts.conditionsBound) {
    write[CONDITIONS_FIELD] = nextStatus;
    diff.push({ field: CONDITIONS_FIELD, from: summaryOf(current), to: summaryOf(nextStatus) });
  }
  const comment = comments.length > 0 ? comments.join('\n\n') : undefined;
  if (diff.length === 0 && !comment) return null;
  return { ...(nextTaskStatus ? { status: nextTaskStatus } : {}), fields: write, ...(comment ? { comment } : {}), diff, nextStatus };
}

/** A short, readable form of a status for plan output. */
export function summaryOf(s: ControllerStatus): string {
  const conds = s.conditions
    .filter((c) => c.type !== 'Ready' || c.status !== 'True')
    .map((c) => `${c.type}=${c.status}(${c.reason})`);
  return conds.length > 0 ? conds.join(' ') : s.conditions.length > 0 ? 'Ready=True' : '(none)';
}

/**
 * A key's actions without riders that nothing would carry: with no other task write planned, a rider is
 * not an action at all (and `plan` must not list it as one).
 */
export function withoutLoneRiders(actions: readonly Action[]): Action[] {
  const carried = actions.some((a) => (a.type === 'task.patch' && !a.change.rider) || (a.type === 'discord.post' && a.task !== undefined));
  return carried ? [...actions] : actions.filter((a) => !(a.type === 'task.patch' && a.change.rider));
}
