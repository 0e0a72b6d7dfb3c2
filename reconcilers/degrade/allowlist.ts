/**
 * Kill allowlist matching. A pattern with glob characters (`*`, `?`, `[…]`) must match a whole string — the command
 * line, the executable path or argv[0] — with `*` crossing `/` and spaces as in the kit; a plain pattern is a
 * literal substring of the command line or executable.
 */
import { isCatchAllKillPattern } from '../../src/model/index.js';

const GLOB_CHARS = /[*?[]/;

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

export interface Candidate {
  command: string;
  exe: string | null;
}

export function compileAllowlist(patterns: readonly string[]): (c: Candidate) => string | null {
  // the config loader refuses these already; a pattern naming nothing must never reach a kill either way
  const matchers = patterns.filter((p) => !isCatchAllKillPattern(p)).map((p) => {
    if (!GLOB_CHARS.test(p)) return { p, test: (c: Candidate) => c.command.includes(p) || (c.exe?.includes(p) ?? false) };
    const re = globToRegExp(p);
    return {
      p,
      test: (c: Candidate) => re.test(c.command) || (c.exe !== null && re.test(c.exe)) || re.test(c.command.split(' ')[0] ?? ''),
    };
  });
  /** the first matching pattern, or null */
  return (c) => matchers.find((m) => m.test(c))?.p ?? null;
}
