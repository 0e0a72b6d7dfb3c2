export * from './list.js';
export * from './guard.js';
export * from './signal.js';
export * from './redact.js';
