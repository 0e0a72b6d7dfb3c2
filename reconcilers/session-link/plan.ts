import {
  linkedSessionKey,
  QUIET_MS,
  sessionVersion,
  type GatewayView,
  type PlanResult,
  type Session,
  type Task,
  type TaskPatchAction,
  type TaskReconciler,
  type TaskSnapshot,
} from '../../src/model/index.js';
import { linkAction } from './link.js';

/**
 * Auto-adoption (issue 4): a gateway session that names a task is linked to it without anyone running
 * `task link`. A session names a task by its label (the spawn payload sets label = task id) or by
 * `MC Task: <id>` / `taskId=<id>` in its first user message.
 *
 * Cost: labels come with the session list, so the label match is free. The message match needs the
 * session's opening prompt, asked for only while the task is unlinked and only for sessions created within
 * the look-back window whose label is not a task id. One scan serves every unlinked task: the gateway
 * source reads each candidate's opening once (shared in flight, never again once found). Across processes
 * the task's ledger (`session-link:scan`) records the newest candidate version examined once the
 * candidates went quiet, so a restarted controller reads only sessions that changed since.
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

const unlinked = (task: Task): boolean => linkedSessionKey(task) === null && ADOPTABLE.has(task.status);

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

/** The ledger entry whose `n` is the newest candidate version every unlinked read has examined. */
export const SCANNED = 'session-link:scan';

/**
 * Sessions recent enough that their first message may name a task. A label that is itself an id names
 * its task already (label match), so such sessions are never read for this.
 */
function recentCandidates(gw: GatewayView, now: number, lookback: number): Session[] {
  return [...gw.sessions.values()].filter((s) => !(s.label && UUID.test(s.label)) && (s.createdAt ?? s.updatedAt ?? 0) >= now - lookback);
}

/**
 * Candidates not yet examined at their current version, as far as the task's ledger knows. A session another
 * task is linked to already is that task's, whatever its opening says, so it is never read for this.
 */
function unexamined(s: Pick<TaskSnapshot, 'status' | 'now' | 'settings' | 'linkedSessions'>, gw: GatewayView): Session[] {
  const scanned = s.status.ledger[SCANNED]?.n ?? 0;
  return recentCandidates(gw, s.now, lookbackMs(s.settings)).filter((c) => sessionVersion(c) > scanned && !s.linkedSessions?.has(c.key));
}

/**
 * Records how far the scan got, once every candidate was examined and the newest is quiet: one write per
 * quiet period, never one per pass while sessions keep appearing.
 */
function scanned(s: TaskSnapshot, gw: GatewayView, candidates: readonly Session[]): TaskPatchAction | null {
  if (candidates.length === 0 || candidates.some((c) => !gw.openings.has(c.key))) return null;
  const newest = Math.max(...candidates.map(sessionVersion));
  if (s.now - newest < QUIET_MS) return null;
  return {
    type: 'task.patch',
    key: `task/${s.task.boardId}/${s.task.id}`,
    reconciler: NAME,
    reason: `${candidates.length} recent session(s) examined; none names this task`,
    idempotencyKey: `${NAME}:scan:${s.task.id}:${newest}`,
    boardId: s.task.boardId,
    taskId: s.task.id,
    change: { ledger: { [SCANNED]: { s: 'done', at: s.now, n: newest } } },
  };
}

/**
 * A task linked to a session that has since spawned a sub-agent labelled with the task id: the sub-agent is
 * where the work (and its TASK_UPDATE) happens. It happens when the spawning session's own first message
 * carries the `MC Task:` marker (the spawn prompt quotes it) and was matched before the child existed.
 */
function spawnedForTask(s: TaskSnapshot, gw: GatewayView): Session | undefined {
  const current = linkedSessionKey(s.task);
  if (current === null || !ADOPTABLE.has(s.task.status)) return undefined;
  return newest((gw.children.get(current) ?? []).filter((c) => c.label === s.task.id));
}

export function plan(s: TaskSnapshot): PlanResult {
  const gw = s.gateway;
  if (!gw?.synced) return { actions: [] };
  const child = spawnedForTask(s, gw);
  if (child) {
    const action = linkAction({ reconciler: NAME, task: s.task, status: s.status, sessionKey: child.key, how: 'automatically: the session it spawned for this task carries the task id as label' });
    return { actions: action ? [action] : [] };
  }
  if (!unlinked(s.task)) return { actions: [] };
  let session = newest(byLabel(gw).get(s.task.id) ?? []);
  let how = 'automatically: the session label is the task id';
  if (!session) {
    const candidates = unexamined(s, gw);
    session = newest(candidates.filter((c) => mentionedTaskIds(gw.openings.get(c.key) ?? '').includes(s.task.id)));
    how = 'automatically: its first message names this task';
    if (!session) {
      const mark = scanned(s, gw, candidates);
      return { actions: mark ? [mark] : [] };
    }
  }
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

function wants(task: Task, status: TaskSnapshot['status'], s: Omit<TaskSnapshot, 'comments'>) {
  const gw = s.gateway;
  if (!gw?.synced || !unlinked(task) || byLabel(gw).has(task.id)) return undefined;
  const keys = unexamined({ ...s, status }, gw).map((c) => c.key);
  return keys.length > 0 ? { openings: keys } : undefined;
}

/** A session no task is linked to changed (a push): the unlinked tasks it may name are worth a look now. */
function affectedBy(session: Session, tasks: Iterable<Task>, now: number, settings: TaskSnapshot['settings']): Task[] {
  const open = [...tasks].filter(unlinked);
  if (session.label && UUID.test(session.label)) return open.filter((t) => t.id === session.label);
  const recent = (session.createdAt ?? session.updatedAt ?? now) >= now - lookbackMs(settings);
  return recent ? open : [];
}

export const sessionLinkReconciler: TaskReconciler = { scope: 'task', name: NAME, wants, plan, affectedBy };
