export { sessionLinkReconciler, plan, mentionedTaskIds, NAME } from './plan.js';
export { linkAction, type LinkRequest } from './link.js';
