export * from './settings.js';
export * from './signals.js';
export * from './hysteresis.js';
export * from './monitor.js';
export * from './observe.js';
export * from './kit-state.js';
