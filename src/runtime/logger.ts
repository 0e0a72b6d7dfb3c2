import pino, { type Logger } from 'pino';

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

export function createLogger(opts: { level?: string; pretty?: boolean; destination?: pino.DestinationStream } = {}): Logger {
  const pretty = opts.pretty ?? (process.stderr.isTTY === true && !process.env.CI);
  const base: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { name: 'mc-controller' },
  };
  if (opts.destination) return pino(base, opts.destination);
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } } });
  }
  // Logs go to stderr so stdout stays machine-readable (plan --json, the sandbox ready line).
  return pino(base, pino.destination(2));
}
