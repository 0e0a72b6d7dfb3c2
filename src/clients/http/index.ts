export * from './backoff.js';
export * from './errors.js';
export * from './sse.js';
export * from './transport.js';
export * from './retry.js';
