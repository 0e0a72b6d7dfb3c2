import type { Reconciler } from '../model/index.js';
import { approvalsReconciler } from '../../reconcilers/approvals/index.js';
import { deliveryReconciler } from '../../reconcilers/delivery/index.js';
import { watchdog } from '../../reconcilers/watchdog/index.js';

/** Every concern the controller runs, in the order their changes are merged (later wins on a field). */
export function reconcilers(): Reconciler[] {
  return [watchdog, deliveryReconciler, approvalsReconciler];
}
