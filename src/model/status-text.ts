import { findCondition, type Condition } from './conditions.js';
import { BLOCKED, DONE_AWAITING_APPROVAL, APPROVAL_REJECTED, GATE_RULES } from './done-gate.js';

/**
 * `mc_status`: one line an operator reads on the card in Mission Control's own UI, where `mc_conditions`
 * is hidden. Derived only from what the task stores (status and conditions), never from the clock, so it
 * changes — and is written — only when the state it describes changes.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `4 Dec 12:03 UTC`: the day too, since a card is read days later. */
export function stamp(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '';
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${hh}:${mm} UTC`;
}

const cut = (s: string, n = 140): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const held = (conditions: readonly Condition[], type: string): Condition | undefined => {
  const c = findCondition(conditions, type);
  return c?.status === 'True' ? c : undefined;
};

function stalledLine(c: Condition): string {
  const minutes = Number(/(\d+) min/.exec(c.message)?.[1]);
  if (!Number.isFinite(minutes)) return `Stalled — no agent activity (${c.message || 'see mc_conditions'})`;
  return `Stalled ${minutes} min — no agent activity since ${stamp(Date.parse(c.lastTransitionTime) - minutes * 60_000)}`;
}

function blockedLine(c: Condition): string {
  if (c.reason === DONE_AWAITING_APPROVAL) return c.message.includes(GATE_RULES.review) ? 'Waiting for review before done' : 'Waiting for approval of done';
  if (c.reason === APPROVAL_REJECTED) return cut(`Approval rejected — stays in review (${c.message})`);
  if (c.reason === 'AgentFailed') return cut(`Agent reported failure — ${c.message}`);
  return cut(`Waiting for a human — ${c.message || c.reason}`);
}

export function statusText(taskStatus: string, conditions: readonly Condition[]): string | null {
  if (conditions.length === 0) return null;
  if (taskStatus === 'done') {
    const delivered = held(conditions, 'Delivered');
    if (delivered?.reason === 'BacklogSkipped') return 'Done before mc-controller first ran; not posted';
    if (delivered) return `Delivered to Discord ${stamp(Date.parse(delivered.lastTransitionTime))}`;
    return 'Done';
  }
  const failed = held(conditions, 'Failed');
  if (failed) return cut(`Needs a human — ${failed.message}`);
  const lost = held(conditions, 'SessionLost');
  if (lost) return cut(`Session lost — ${lost.message}`);
  const stalled = held(conditions, 'Stalled');
  if (stalled) return stalledLine(stalled);
  const exec = held(conditions, 'AwaitingApproval');
  if (exec) return cut(`Waiting for an exec approval — ${exec.message}`);
  const blocked = held(conditions, BLOCKED);
  if (blocked) return blockedLine(blocked);
  if (findCondition(conditions, 'SessionLinked')?.status === 'False') return 'No session linked — run `mc-controller task link <taskId> <sessionKey>`';
  if (taskStatus === 'review' && held(conditions, 'Completed')) return 'Session finished — waiting for review';
  if (taskStatus === 'in_progress') {
    const linked = held(conditions, 'SessionLinked');
    return linked ? cut(`Running — ${linked.message}`) : 'In progress';
  }
  return null;
}
