export { JsonStateFile, type StateFile, type StateRead } from './json-file.js';
