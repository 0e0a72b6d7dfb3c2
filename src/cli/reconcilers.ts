import type { Reconciler } from '../model/index.js';
import { approvalsReconciler, unlinkedApprovalsReconciler } from '../../reconcilers/approvals/index.js';
import { costReconciler } from '../../reconcilers/cost/index.js';
import { degradeReconciler } from '../../reconcilers/degrade/index.js';
import { deliveryReconciler } from '../../reconcilers/delivery/index.js';
import { statusReconciler } from '../../reconcilers/status/index.js';
import { sessionLinkReconciler } from '../../reconcilers/session-link/index.js';
import { taskUpdateReconciler } from '../../reconcilers/task-update/index.js';
import { watchdog } from '../../reconcilers/watchdog/index.js';

/**
 * Every concern the controller runs, in the order their changes are merged (later wins on a field).
 * Concerns whose only effect is a Discord post run only when Discord is configured, so an operator
 * without Discord sees neither failing actions nor a plan full of posts that can never happen.
 */
export function reconcilers(opts: { discord: boolean }): Reconciler[] {
  // session-link and task-update after the watchdog: they act on news the watchdog's snapshot predates (a fresh
  // link, the agent's own report), so theirs must win the merge; cost after task-update (usage beats a reported cost);
  // status last among the task concerns: it only catches up conditions and mc_status the others left behind.
  return [watchdog, sessionLinkReconciler, taskUpdateReconciler, costReconciler, ...(opts.discord ? [deliveryReconciler, approvalsReconciler, unlinkedApprovalsReconciler] : []), statusReconciler, degradeReconciler];
}
