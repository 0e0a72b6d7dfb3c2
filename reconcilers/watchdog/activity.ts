import type { ChatMessage, Session } from '../../src/model/index.js';

/** Newest sign of life of a session: its row times, its spawned children's, and chat timestamps when fetched. */
export function lastActivity(session: Session, children: readonly Session[], history: readonly ChatMessage[] | undefined): number | null {
  const times = [session, ...children].flatMap((s) => [s.lastActivityAt, s.updatedAt]);
  for (const m of history ?? []) times.push(m.timestamp);
  const known = times.filter((t): t is number => typeof t === 'number' && Number.isFinite(t));
  return known.length > 0 ? Math.max(...known) : null;
}

/** The last assistant text of a finished run: the fallback result summary. */
export function finalAssistantText(history: readonly ChatMessage[] | undefined): string | null {
  const last = [...(history ?? [])].reverse().find((m) => m.role === 'assistant' && m.text.trim());
  return last ? last.text.trim() : null;
}

const LIVE = new Set(['running', 'queued']);
const LOST = new Set(['failed', 'killed', 'timeout']);

export type SessionState = 'running' | 'done' | 'lost' | 'unknown';

export function classify(session: Session): SessionState {
  const status = session.status ?? '';
  if (LIVE.has(status) || session.hasActiveRun === true) return 'running';
  if (status === 'done') return 'done';
  if (LOST.has(status)) return 'lost';
  return 'unknown';
}
