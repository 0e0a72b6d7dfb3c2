import pino, { type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { statusLine } from './status-line.js';

/** Paths redacted wherever they appear in a log object; tokens must never reach a log line. */
export const REDACT_PATHS = [
  'token',
  'authToken',
  'password',
  'authorization',
  'Authorization',
  '*.token',
  '*.authToken',
  '*.password',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  '*.headers.authorization',
  'config.*.token',
  'config.*.authToken',
];

export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Whether a person reads stderr: a terminal (outside CI), or MC_LOG_FORMAT=pretty. Decides the log format and
 * whether long passes show progress; piped output stays machine-readable JSON with nothing extra.
 */
export function humanOutput(format: LogFormat = 'auto'): boolean {
  if (format !== 'auto') return format === 'pretty';
  return process.stderr.isTTY === true && !process.env.CI;
}

/** What a person needs on one line; the rest of the record (ids, pid, host) stays in the JSON format. */
const PRETTY_OPTIONS = {
  colorize: process.stderr.isTTY === true,
  singleLine: true,
  translateTime: 'SYS:HH:MM:ss',
  ignore: 'pid,hostname,name,reconcileId,key,taskId,reconciler,action',
};

export function createLogger(opts: { level?: string; pretty?: boolean; format?: LogFormat; destination?: pino.DestinationStream } = {}): Logger {
  const pretty = opts.pretty ?? humanOutput(opts.format);
  const base: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { name: 'mc-controller' },
  };
  if (opts.destination) return pino(base, opts.destination);
  if (pretty) {
    // Formatted in this thread, synchronously (not in a transport worker): each line goes above the progress
    // line, never into it, and nothing is lost when the process exits right after logging.
    const format = prettyFactory(PRETTY_OPTIONS);
    return pino(base, { write: (line: string) => statusLine.above(format(line)) });
  }
  // Logs go to stderr so stdout stays machine-readable (plan --json, the sandbox ready line).
  return pino(base, pino.destination(2));
}
