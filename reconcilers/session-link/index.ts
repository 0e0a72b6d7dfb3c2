export { sessionLinkReconciler, plan, mentionedTaskIds, NAME } from './plan.js';
export { linkAction, WATCHDOG_FLAGS, type LinkRequest } from './link.js';
