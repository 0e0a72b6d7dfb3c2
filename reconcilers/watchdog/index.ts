export { watchdog, plan, inScope, NAME } from './plan.js';
