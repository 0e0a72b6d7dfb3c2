import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time check of `Authorization: <scheme> <token>` (scheme case-insensitive). */
export function authorized(header: string | undefined, scheme: string, token: string): boolean {
  if (!header) return false;
  const space = header.indexOf(' ');
  if (space < 0 || header.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return false;
  const given = createHash('sha256').update(header.slice(space + 1).trim()).digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected);
}
