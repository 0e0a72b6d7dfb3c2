export * from './types.js';
export { readPressure, hasHostSignal, type PressureReaderOptions } from './reader.js';
export { parsePsi, parseMeminfo, parseCgroup2Events, parseProcCgroup } from './parse.js';
