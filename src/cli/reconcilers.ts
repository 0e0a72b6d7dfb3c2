import type { Reconciler } from '../model/index.js';
import { approvalsReconciler } from '../../reconcilers/approvals/index.js';
import { costReconciler } from '../../reconcilers/cost/index.js';
import { degradeReconciler } from '../../reconcilers/degrade/index.js';
import { deliveryReconciler } from '../../reconcilers/delivery/index.js';
import { watchdog } from '../../reconcilers/watchdog/index.js';

/**
 * Every concern the controller runs, in the order their changes are merged (later wins on a field).
 * Concerns whose only effect is a Discord post run only when Discord is configured, so an operator
 * without Discord sees neither failing actions nor a plan full of posts that can never happen.
 */
export function reconcilers(opts: { discord: boolean }): Reconciler[] {
  return [watchdog, costReconciler, ...(opts.discord ? [deliveryReconciler, approvalsReconciler] : []), degradeReconciler];
}
