/**
 * How the real gateway (openclaw 2026.9.6) judges a session key passed to `chat.history` / `sessions.usage`,
 * checked against it by the contract suite:
 * - a key that starts like `agent:` but has no agent id or no rest (`agent:main`, `agent::x`) is refused by both
 *   methods: `INVALID_REQUEST malformed session key "<key>"`;
 * - `sessions.usage` of a key it does not know resolves the key to a transcript file name: the rest after
 *   `agent:<id>:` (or the whole lower-cased key) must be a safe session id, otherwise
 *   `INVALID_REQUEST Invalid session reference: <key>` — e.g. the kit's QA keys `__qa_missing_1_<ts>`.
 *   `chat.history` answers such keys with an empty transcript.
 */

/** `paths.ts` SAFE_SESSION_ID_RE upstream: a letter or digit first, then letters, digits, marks, `.`, `_`, `-` */
const SAFE_SESSION_ID = /^[\p{L}\p{N}][\p{L}\p{N}\p{M}._-]{0,127}$/u;

function agentParts(key: string): { agentId: string; rest: string } | null {
  if (key.slice(0, 6).toLowerCase() !== 'agent:') return null;
  const end = key.indexOf(':', 6);
  if (end === -1) return null;
  const agentId = key.slice(6, end).trim();
  const rest = key.slice(end + 1);
  return agentId && rest && !rest.startsWith(':') ? { agentId, rest } : null;
}

/** `agent:`-shaped but unparsable: both read methods refuse it. */
export function isMalformedAgentKey(key: string): boolean {
  const raw = key.trim();
  return raw.toLowerCase().startsWith('agent:') && agentParts(raw.toLowerCase()) === null;
}

/** Whether `sessions.usage` can resolve a key it has no session for (else "Invalid session reference"). */
export function isUsageReference(key: string): boolean {
  const folded = key.trim().toLowerCase();
  const id = agentParts(folded)?.rest ?? folded;
  return id === id.normalize('NFC') && SAFE_SESSION_ID.test(id) && Buffer.byteLength(`${id}.jsonl`, 'utf8') <= 255;
}
