export { JsonStateFile, type StateFile, type StateRead } from './json-file.js';
export { ExclusiveFile, type ExclusiveRead } from './exclusive-file.js';
export { MemoryStateFile } from './memory-file.js';
