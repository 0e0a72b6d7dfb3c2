export * from './load.js';
export * from './schema.js';
export * from './settings.js';
export * from './state-dir.js';
