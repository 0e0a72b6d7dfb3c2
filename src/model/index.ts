export * from './action.js';
export * from './board.js';
export * from './conditions.js';
export * from './hash.js';
export * from './reconciler.js';
export * from './session.js';
export * from './settings.js';
export * from './snapshot.js';
