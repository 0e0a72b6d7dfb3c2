import type { FieldType, Task } from './board.js';
import { CONDITIONS_FIELD } from './conditions.js';

/** Custom fields the controller reads and writes: the legacy kit's set plus `mc_conditions`. */
export const F = {
  sessionKey: 'mc_session_key',
  retryCount: 'mc_retry_count',
  progress: 'mc_progress',
  delivered: 'mc_delivered',
  outputSummary: 'mc_output_summary',
  approvalNotified: 'mc_approval_notified',
  estimatedCost: 'mc_estimated_cost_usd',
  actualCost: 'mc_actual_cost_usd',
  lastError: 'mc_last_error',
  riskProfile: 'mc_risk_profile',
  reviewDepth: 'mc_review_depth',
  signatureRequired: 'mc_signature_required',
  rejectionFeedback: 'mc_rejection_feedback',
  authorizationStatus: 'mc_authorization_status',
  conditions: CONDITIONS_FIELD,
  statusText: 'mc_status',
} as const;

/** The session a task is linked to (`mc_session_key`, trimmed), or null when none is. */
export function linkedSessionKey(task: Pick<Task, 'fields'>): string | null {
  const v = task.fields[F.sessionKey];
  return typeof v === 'string' && v.trim() ? v.trim() : null;
}

export interface DesiredField {
  fieldKey: string;
  label: string;
  fieldType: FieldType;
  defaultValue: unknown;
  uiVisibility: 'always' | 'if_set' | 'hidden';
  description: string;
  /**
   * Visibility the controller insists on (bootstrap repairs drift): its ledger stays off the card, its one
   * readable line stays on it. The kit's fields keep whatever an operator chose.
   */
  enforceVisibility?: boolean;
}

const field = (fieldKey: string, fieldType: FieldType, defaultValue: unknown, description: string): DesiredField => ({
  fieldKey,
  label: fieldKey,
  fieldType,
  defaultValue,
  uiVisibility: 'if_set',
  description,
});

/** What `bootstrap` creates, binds and repairs (legacy-kit.md §6: the kit's fields if_set and never required; ours hidden / always). */
export const DESIRED_FIELDS: readonly DesiredField[] = [
  field(F.sessionKey, 'text', null, 'OpenClaw session key linked to this task'),
  field(F.retryCount, 'integer', 0, 'Recovery attempts recorded by the watchdog'),
  field(F.progress, 'integer', 0, 'Progress 0-100 from TASK_UPDATE'),
  field(F.delivered, 'boolean', false, 'Result delivered to Discord'),
  field(F.outputSummary, 'text_long', null, 'Result summary delivered to Discord'),
  field(F.approvalNotified, 'boolean', false, 'A pending approval of this task was announced'),
  field(F.estimatedCost, 'decimal', 0, 'Estimated cost in USD'),
  field(F.actualCost, 'decimal', 0, 'Cumulative cost in USD from the gateway usage'),
  field(F.lastError, 'text_long', null, 'Watchdog flag or last error'),
  field(F.riskProfile, 'text', 'medium', 'Risk profile'),
  field(F.reviewDepth, 'integer', 2, 'Review depth'),
  field(F.signatureRequired, 'boolean', false, 'Signature required'),
  field(F.rejectionFeedback, 'text_long', null, 'Rejection feedback'),
  field(F.authorizationStatus, 'text', null, 'Authorization status'),
  { ...field(F.conditions, 'json', null, 'mc-controller status: observedHash, conditions, ledger'), uiVisibility: 'hidden', enforceVisibility: true },
  { ...field(F.statusText, 'text', null, 'mc-controller: where the task stands, in one line'), uiVisibility: 'always', enforceVisibility: true },
];

/** Fields only the controller writes; a change to them is not an input change (no hot loop on own writes). */
export const OWN_FIELDS: ReadonlySet<string> = new Set([
  F.conditions,
  F.lastError,
  F.retryCount,
  F.delivered,
  F.approvalNotified,
  F.actualCost,
  F.statusText,
]);

const FALSY = new Set(['', '0', 'false', 'no', 'off', 'null']);

/** The kit's reading of a boolean field: missing, null, false, 0 and "", "0", "false", "no", "off" are false. */
export function truthyFlag(value: unknown): boolean {
  if (value === undefined || value === null || value === false || value === 0) return false;
  if (typeof value === 'string') return !FALSY.has(value.trim().toLowerCase());
  return true;
}

/**
 * The flags the watchdog writes to `mc_last_error` (the kit's set). Linking a session or a successful report
 * answers them; a free-text error someone else wrote is never one of them and is never cleared by us.
 */
export const WATCHDOG_FLAGS: ReadonlySet<string> = new Set(['missing_session_key', 'stalled', 'needs_approval', 'retry', 'session_ended_incomplete']);
