export { Controller } from './controller.js';
export type { ControllerMetrics, ControllerOptions, Mode } from './options.js';
export type { KeyReport, PassReport } from './pass.js';
export type { KeyResult } from './reconcile.js';
