import { z } from 'zod';

/**
 * Status conditions with Kubernetes semantics, stored in the json custom field `mc_conditions`
 * together with the inputs hash (our observedGeneration) and the idempotency ledger.
 */

export const CONDITIONS_FIELD = 'mc_conditions';

export type ConditionStatus = 'True' | 'False' | 'Unknown';
const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;

export const conditionSchema = z.object({
  type: z.string().min(1).max(316),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().regex(REASON),
  message: z.string().max(32768).default(''),
  /** ISO-8601 UTC */
  lastTransitionTime: z.string(),
});
export type Condition = z.infer<typeof conditionSchema>;

export const ledgerEntrySchema = z.object({
  /** pending = intent recorded before an external call; done = confirmed */
  s: z.enum(['pending', 'done', 'failed']),
  /** epoch ms of the last state change */
  at: z.number(),
  /** external id (Discord message id, …) */
  ext: z.string().optional(),
  n: z.number().int().optional(),
});
export type LedgerEntry = z.infer<typeof ledgerEntrySchema>;

export const controllerStatusSchema = z.object({
  observedHash: z.string().default(''),
  conditions: z.array(conditionSchema).default([]),
  ledger: z.record(z.string(), ledgerEntrySchema).default({}),
});
export type ControllerStatus = z.infer<typeof controllerStatusSchema>;

export const emptyStatus = (): ControllerStatus => ({ observedHash: '', conditions: [], ledger: {} });

/** A ledger read entry by entry, and the keys of the entries that were malformed and dropped. */
export interface ParsedLedger {
  ledger: Record<string, LedgerEntry>;
  dropped: string[];
}

/**
 * Validates a ledger entry by entry: one malformed entry (hand-edited, foreign, truncated) is dropped alone,
 * so the entries beside it — notices already posted — are never forgotten and re-sent.
 */
export function parseLedger(raw: unknown): ParsedLedger {
  const ledger: Record<string, LedgerEntry> = {};
  const dropped: string[] = [];
  if (raw === undefined || raw === null) return { ledger, dropped };
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ledger, dropped: ['(ledger is not an object)'] };
  for (const [key, value] of Object.entries(raw)) {
    const entry = ledgerEntrySchema.safeParse(value);
    if (entry.success) ledger[key] = entry.data;
    else dropped.push(key);
  }
  return { ledger, dropped };
}

/** At most `limit` entries, the most recent ones: a ledger grows with every effect, the oldest go first. */
export function pruneLedger(ledger: Record<string, LedgerEntry>, limit: number): Record<string, LedgerEntry> {
  const entries = Object.entries(ledger);
  if (entries.length <= limit) return ledger;
  return Object.fromEntries(entries.sort(([, a], [, b]) => b.at - a.at).slice(0, limit));
}

/** `mc_conditions` as read, plus what was malformed in it (ledger keys, condition positions) and left out. */
export interface CheckedStatus {
  status: ControllerStatus;
  dropped: string[];
}

/**
 * Reads `mc_conditions` part by part: a malformed condition or ledger entry is left out on its own and
 * reported, the rest is kept; a value that is not an object at all yields an empty status.
 */
export function readStatusChecked(fields: Record<string, unknown>): CheckedStatus {
  const raw = fields[CONDITIONS_FIELD] ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { status: emptyStatus(), dropped: [`(${CONDITIONS_FIELD} is not an object)`] };
  }
  const value = raw as Record<string, unknown>;
  const dropped: string[] = [];
  const observedHash = typeof value['observedHash'] === 'string' ? value['observedHash'] : '';
  const conditions: Condition[] = [];
  const rawConditions = Array.isArray(value['conditions']) ? (value['conditions'] as unknown[]) : [];
  rawConditions.forEach((c, i) => {
    const parsed = conditionSchema.safeParse(c);
    if (parsed.success) conditions.push(parsed.data);
    else dropped.push(`conditions[${i}]`);
  });
  const ledger = parseLedger(value['ledger']);
  return { status: { observedHash, conditions, ledger: ledger.ledger }, dropped: [...dropped, ...ledger.dropped.map((k) => `ledger.${k}`)] };
}

/** Reads `mc_conditions` leniently (see readStatusChecked): never a crash, never more lost than what is malformed. */
export function readStatus(fields: Record<string, unknown>): ControllerStatus {
  return readStatusChecked(fields).status;
}

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message?: string;
}

export function findCondition(conditions: readonly Condition[], type: string): Condition | undefined {
  return conditions.find((c) => c.type === type);
}

export function isTrue(conditions: readonly Condition[], type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/**
 * meta.SetStatusCondition: lastTransitionTime moves only when status flips.
 * Returns a new array and whether anything changed, so unchanged writes can be skipped.
 */
export function setCondition(
  conditions: readonly Condition[],
  input: ConditionInput,
  now: number,
): { conditions: Condition[]; changed: boolean } {
  if (!REASON.test(input.reason)) throw new Error(`condition reason must be one CamelCase word: ${input.reason}`);
  const message = input.message ?? '';
  const existing = findCondition(conditions, input.type);
  if (!existing) {
    const added: Condition = { ...input, message, lastTransitionTime: new Date(now).toISOString() };
    return { conditions: [...conditions, added], changed: true };
  }
  if (existing.status === input.status && existing.reason === input.reason && existing.message === message) {
    return { conditions: [...conditions], changed: false };
  }
  const lastTransitionTime =
    existing.status === input.status ? existing.lastTransitionTime : new Date(now).toISOString();
  const next = conditions.map((c) =>
    c.type === input.type ? { type: c.type, status: input.status, reason: input.reason, message, lastTransitionTime } : c,
  );
  return { conditions: next, changed: true };
}

/** Conditions whose True status means something needs attention; Ready is False while any holds. */
export const ABNORMAL_TRUE = new Set(['Stalled', 'AwaitingApproval', 'SessionLost', 'Degraded', 'Failed', 'ReconcileError', 'Blocked']);
/** Conditions whose False status means something needs attention. */
export const ABNORMAL_FALSE = new Set(['SessionLinked', 'Delivered']);

/** The summary condition, derived from the others (kstatus style). */
export function summarize(conditions: readonly Condition[]): ConditionInput {
  const bad = conditions.filter(
    (c) =>
      c.type !== 'Ready' &&
      ((ABNORMAL_TRUE.has(c.type) && c.status === 'True') || (ABNORMAL_FALSE.has(c.type) && c.status === 'False')),
  );
  if (bad.length === 0) return { type: 'Ready', status: 'True', reason: 'Reconciled', message: '' };
  const first = bad[0]!;
  return {
    type: 'Ready',
    status: 'False',
    reason: first.reason,
    message: bad.map((c) => `${c.type}: ${c.message || c.reason}`).join('; '),
  };
}

/** The reason abnormal conditions take when the task they describe is done: nothing is wrong with it any more. */
export const TASK_DONE = 'TaskDone';

/**
 * Conditions recomputed from the task's status: once it is done, no abnormal condition can still hold
 * (a Blocked=True DoneAwaitingApproval beside Delivered=True would keep Ready=False for ever). Returns the
 * changes to set; the merge recomputes Ready from them.
 */
export function settle(conditions: readonly Condition[], taskStatus: string): ConditionInput[] {
  if (taskStatus !== 'done') return [];
  const out: ConditionInput[] = [];
  for (const c of conditions) {
    if (c.type === 'Ready') continue;
    if (ABNORMAL_TRUE.has(c.type) && c.status === 'True') out.push({ type: c.type, status: 'False', reason: TASK_DONE, message: '' });
    else if (c.type === 'SessionLinked' && c.status === 'False') out.push({ type: c.type, status: 'Unknown', reason: TASK_DONE, message: '' });
  }
  return out;
}
