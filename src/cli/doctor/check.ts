import { redactUrlCredentials } from '../../config/index.js';

/** One line of `mc-controller doctor`: a named, read-only check with what was seen and how to fix it. */
export interface CheckResult {
  name: string;
  /** false fails the run (exit 1); skipped and warning results are ok */
  ok: boolean;
  /** the peer or feature is not configured: nothing to check */
  skipped?: boolean;
  /** works, but with a consequence the operator should know about */
  warning?: boolean;
  detail: string;
  hint?: string;
}

export const pass = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
export const warn = (name: string, detail: string, hint: string): CheckResult => ({ name, ok: true, warning: true, detail, hint });
export const fail = (name: string, detail: string, hint?: string): CheckResult => ({ name, ok: false, detail, ...(hint ? { hint } : {}) });
export const skip = (name: string, detail: string): CheckResult => ({ name, ok: true, skipped: true, detail });

/** Our clients already keep tokens out of their errors; this is the last guard before anything is printed. */
export function scrubber(secrets: readonly (string | undefined)[]): (text: string) => string {
  const real = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4);
  return (text) => redactUrlCredentials(real.reduce((acc, s) => acc.split(s).join('[redacted]'), text));
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A check that hangs must not hang the doctor: every check gets a deadline. */
export async function withDeadline<T>(ms: number, what: string, run: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${Math.round(ms / 1000)} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
