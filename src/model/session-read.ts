import type { LedgerEntry } from './conditions.js';
import type { ChatMessage, Session } from './session.js';

/**
 * The session version a task's readers have consumed, kept in the task's ledger so that a restarted
 * controller (every `once` is one) reads nothing that did not change. Written only when the session goes
 * quiet (or with a change the readers make anyway), so a running session costs no write per pass.
 * The key keeps its first name: boards already carry it.
 */
export const SESSION_SEEN = 'task-update:seen';

/** A session that has not changed for this long is quiet: its consumed version is worth recording. */
export const QUIET_MS = 60_000;

const FINISHED = new Set(['done', 'failed', 'killed', 'timeout']);

/** Newest row time: a run that ends may move only endedAt or lastActivityAt, not updatedAt. */
export const sessionVersion = (s: Session): number => Math.max(s.updatedAt ?? 0, s.lastActivityAt ?? 0, s.endedAt ?? 0);

export const sessionFinished = (s: Session): boolean => FINISHED.has(s.status ?? '');

export const sessionQuiet = (s: Session, now: number): boolean => sessionFinished(s) || now - sessionVersion(s) >= QUIET_MS;

/** Which session, in which state, besides the time (running → done must read again). */
const seenTag = (s: Session): string => `${s.key} ${s.status ?? 'unknown'}`;

/** The ledger says this session's transcript was read at its current version. */
export const consumed = (entry: LedgerEntry | undefined, s: Session): boolean => entry?.at === sessionVersion(s) && entry.ext === seenTag(s);

/** The newest message time the consumed transcript showed (the watchdog's activity without a read). */
export const consumedActivity = (entry: LedgerEntry | undefined, s: Session): number | null =>
  consumed(entry, s) && typeof entry?.n === 'number' && entry.n > 0 ? entry.n : null;

/** The ledger entry recording that `history` of `s` was consumed at its current version. */
export function consumedMark(s: Session, history: readonly ChatMessage[]): LedgerEntry {
  const newest = Math.max(0, ...history.map((m) => (typeof m.timestamp === 'number' && Number.isFinite(m.timestamp) ? Math.floor(m.timestamp) : 0)));
  return { s: 'done', at: sessionVersion(s), ext: seenTag(s), ...(newest > 0 ? { n: newest } : {}) };
}
