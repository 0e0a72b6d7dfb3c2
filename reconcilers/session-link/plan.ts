import { F, type GatewayView, type PlanResult, type Session, type Task, type TaskReconciler, type TaskSnapshot } from '../../src/model/index.js';
import { linkAction } from './link.js';

/**
 * Auto-adoption (issue 4): a gateway session that names a task is linked to it without anyone running
 * `task link`. A session names a task by its label (the spawn payload sets label = task id) or by
 * `MC Task: <id>` / `taskId=<id>` in its first user message.
 *
 * Cost: labels come with the session list, so the label match is free. The message match needs chat
 * history, asked for only while the task is unlinked and only for sessions created within the look-back
 * window whose label is not a task id; the gateway source caches history per session version, so a
 * steady pass reads nothing.
 */

export const NAME = 'session-link';
/** Task statuses a session may be adopted into; a done task has nothing left to watch. */
const ADOPTABLE = new Set(['inbox', 'in_progress', 'review']);
const DEFAULT_LOOKBACK_MINUTES = 60;

const MENTION = /(?:MC Task:\s*|taskId=)["']?([A-Za-z0-9][A-Za-z0-9_-]{2,})/g;

export function lookbackMs(settings: TaskSnapshot['settings']): number {
  // config watchdog.linkLookbackMinutes (MC_SESSION_LINK_LOOKBACK_MINUTES) rides along in the watchdog settings
  const value = (settings.watchdog as unknown as Record<string, unknown>)['linkLookbackMinutes'];
  const minutes = typeof value === 'number' && value >= 0 ? value : DEFAULT_LOOKBACK_MINUTES;
  return minutes * 60_000;
}

const unlinked = (task: Task): boolean => {
  const v = task.fields[F.sessionKey];
  return !(typeof v === 'string' && v.trim()) && ADOPTABLE.has(task.status);
};

/** Task ids a text names. */
export function mentionedTaskIds(text: string): string[] {
  return [...text.matchAll(MENTION)].map((m) => m[1]!);
}

/** Labels index, built once per session list (the map is replaced on every gateway refresh). */
const byLabelCache = new WeakMap<ReadonlyMap<string, Session>, Map<string, Session[]>>();
function byLabel(gw: GatewayView): Map<string, Session[]> {
  let index = byLabelCache.get(gw.sessions);
  if (!index) {
    index = new Map();
    for (const s of gw.sessions.values()) if (s.label) index.set(s.label, [...(index.get(s.label) ?? []), s]);
    byLabelCache.set(gw.sessions, index);
  }
  return index;
}

/** The newest of several candidates: a re-spawn replaces an older attempt. */
const newest = (sessions: readonly Session[]): Session | undefined =>
  [...sessions].sort((a, b) => (b.createdAt ?? b.updatedAt ?? 0) - (a.createdAt ?? a.updatedAt ?? 0))[0];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The gateway prepends its own context as extra user messages; they are not the prompt. */
const INTERNAL_CONTEXT = '<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>';

/**
 * Sessions recent enough that their first message may name a task. A label that is itself an id names
 * its task already (label match), so such sessions are never read for this.
 */
function recentCandidates(gw: GatewayView, now: number, lookback: number): Session[] {
  return [...gw.sessions.values()].filter((s) => !(s.label && UUID.test(s.label)) && (s.createdAt ?? s.updatedAt ?? 0) >= now - lookback);
}

function firstUserText(gw: GatewayView, key: string): string | null {
  const first = gw.history.get(key)?.find((m) => m.role === 'user' && !m.text.trimStart().startsWith(INTERNAL_CONTEXT));
  return first ? first.text : null;
}

export function plan(s: TaskSnapshot): PlanResult {
  const gw = s.gateway;
  if (!gw?.synced || !unlinked(s.task)) return { actions: [] };
  let session = newest(byLabel(gw).get(s.task.id) ?? []);
  let how = 'automatically: the session label is the task id';
  if (!session) {
    const named = recentCandidates(gw, s.now, lookbackMs(s.settings)).filter((c) => {
      const text = firstUserText(gw, c.key);
      return text !== null && mentionedTaskIds(text).includes(s.task.id);
    });
    session = newest(named);
    how = 'automatically: its first message names this task';
  }
  if (!session) return { actions: [] };
  const action = linkAction({
    reconciler: NAME,
    task: s.task,
    status: s.status,
    sessionKey: session.key,
    // A session working on the task means the work started; review and in_progress keep their status.
    ...(s.task.status === 'inbox' ? { targetStatus: 'in_progress' as const } : {}),
    how,
  });
  return { actions: action ? [action] : [] };
}

function wants(task: Task, _status: TaskSnapshot['status'], s: Omit<TaskSnapshot, 'comments'>) {
  const gw = s.gateway;
  if (!gw?.synced || !unlinked(task) || byLabel(gw).has(task.id)) return undefined;
  const keys = recentCandidates(gw, s.now, lookbackMs(s.settings)).map((c) => c.key);
  return keys.length > 0 ? { history: keys } : undefined;
}

export const sessionLinkReconciler: TaskReconciler = { scope: 'task', name: NAME, wants, plan };
