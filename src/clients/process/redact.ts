/**
 * Command lines go into plans, logs and action payloads, and agents' tools do pass tokens on argv. Values of
 * secret-looking flags and KEY=value pairs become `***`. Deterministic, so the kill handler can compare a live
 * process's redacted command with the one the planner saw.
 */

const SECRET_NAME = '[A-Za-z0-9_.-]*(?:token|secret|passw(?:or)?d|api[-_]?key|auth|credential|cookie)[A-Za-z0-9_.-]*';
const FLAG_EQ = new RegExp(`^(--?${SECRET_NAME}=|${SECRET_NAME}=)(.+)$`, 'i');
const FLAG = new RegExp(`^--?${SECRET_NAME}$`, 'i');

export function redactArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = FLAG_EQ.exec(a);
    if (eq) {
      out.push(`${eq[1]}***`);
      continue;
    }
    out.push(a.replace(/\b(Bearer|Basic)\s+\S+/gi, '$1 ***'));
    if (FLAG.test(a) && i + 1 < argv.length) {
      out.push('***');
      i++;
    }
  }
  return out;
}

export const redactCommand = (argv: readonly string[]): string => redactArgv(argv).join(' ');
