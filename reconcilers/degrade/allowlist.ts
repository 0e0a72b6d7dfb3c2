/**
 * Kill allowlist matching. A pattern with glob characters (`*`, `?`, `[…]`) must match a whole string — the command
 * line, the executable path or argv[0] — with `*` crossing `/` and spaces as in the kit; a plain pattern is a
 * literal substring of the command line or executable.
 */
import { isCatchAllKillPattern } from '../../src/model/index.js';

import picomatch from 'picomatch';

const GLOB_CHARS = /[*?[]/;

/**
 * The kit's glob: `*`, `?` and `[…]` only. `bash` makes a single `*` a globstar, so it crosses `/` (spaces are
 * ordinary characters); `dot` lets it cross a leading dot too (`/tmp/*` matches `/tmp/.x`); `posix` reads `[!…]` as
 * a negated class. Braces, extglobs and a leading `!` were never special in the kit, so they stay literal.
 */
const KIT_GLOB: picomatch.PicomatchOptions = { bash: true, dot: true, posix: true, nobrace: true, noextglob: true, nonegate: true };

/** picomatch passes `( ) { } |` through to the regex (groups, quantifiers); the kit read them literally. */
const literalRegexChars = (pattern: string): string => pattern.replace(/[(){}|]/g, '\\$&');

export interface Candidate {
  command: string;
  exe: string | null;
}

export function compileAllowlist(patterns: readonly string[]): (c: Candidate) => string | null {
  // the config loader refuses these already; a pattern naming nothing must never reach a kill either way
  const matchers = patterns.filter((p) => !isCatchAllKillPattern(p)).map((p) => {
    if (!GLOB_CHARS.test(p)) return { p, test: (c: Candidate) => c.command.includes(p) || (c.exe?.includes(p) ?? false) };
    const re = picomatch.makeRe(literalRegexChars(p), KIT_GLOB);
    return {
      p,
      test: (c: Candidate) => re.test(c.command) || (c.exe !== null && re.test(c.exe)) || re.test(c.command.split(' ')[0] ?? ''),
    };
  });
  /** the first matching pattern, or null */
  return (c) => matchers.find((m) => m.test(c))?.p ?? null;
}
