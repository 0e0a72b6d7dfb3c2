/**
 * A kill allowlist pattern that names nothing: no letter or digit once wildcards (`*`, `?`, `[…]`) and separators
 * are set aside — `*`, `**`, `*.*`, `/`, star-slash-star. Such a pattern would match every process on the host; it is
 * refused when the configuration loads and never compiled into a matcher.
 */
export function isCatchAllKillPattern(pattern: string): boolean {
  return !/[\p{L}\p{N}]/u.test(pattern.replace(/\[[^\]]*\]/g, ''));
}

/** MC_RESOURCE_KILL_ALLOWLIST entries: comma, semicolon or newline separated, trimmed, empty ones dropped. */
export function splitKillAllowlist(text: string | undefined): string[] {
  return (text ?? '')
    .split(/[,;\n]/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}
