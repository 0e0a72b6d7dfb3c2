export { taskUpdateReconciler, plan, updatesIn, SEEN } from './plan.js';
export { mirror, kindOf, ledgerKey, alreadyApplied, BLOCKED, NAME } from './map.js';
export { findTaskUpdates, lastTaskUpdate, scanObject, toTaskUpdate, isMeaningful, type TaskUpdate, type FoundBlock } from './parse.js';
