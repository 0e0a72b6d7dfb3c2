import type { AppliedEntry, PlannedEntry } from './executor.js';

/** One JSON object per line: key, reconciler, action, reason, idempotencyKey and the field diff. */
export function planJsonLines(entries: readonly (PlannedEntry | AppliedEntry)[]): string {
  return entries
    .map((e) =>
      JSON.stringify({
        key: e.key,
        reconciler: e.reconciler,
        action: e.action,
        reason: e.reason,
        idempotencyKey: e.idempotencyKey,
        diff: Object.fromEntries((e.diff ?? []).map((d) => [d.field, { from: d.from, to: d.to }])),
        ...('outcome' in e ? { outcome: e.outcome } : {}),
        ...(e.summary ? { summary: e.summary } : {}),
      }),
    )
    .join('\n');
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** How a task is named to a person: its title cut to ~40 characters (one line). */
export const TITLE_WIDTH = 40;
export const shortTitle = (title: string): string => clip(title.replace(/\s+/g, ' ').trim(), TITLE_WIDTH);

/** One log line per applied action that names the task: `"Export billing" (0c0b5d25): task.patch: reason`. */
export function actionLine(e: PlannedEntry | AppliedEntry): string {
  const id = /^task\/[^/]+\/(.+)$/.exec(e.key)?.[1];
  const who = e.title !== undefined && id ? `"${shortTitle(e.title)}" (${id.slice(0, 8)}): ` : '';
  return `${who}${e.action}: ${e.reason}`;
}

/** A readable table for a terminal. */
export function planTable(entries: readonly (PlannedEntry | AppliedEntry)[]): string {
  if (entries.length === 0) return 'No changes: the board matches the desired state.';
  const rows = entries.map((e) => [
    clip(e.key.replace(/^task\/[^/]+\//, 'task/'), 44),
    e.title === undefined ? '' : shortTitle(e.title),
    e.reconciler,
    e.action,
    clip(e.reason, 60),
    clip(e.summary, 90),
  ]);
  const head = ['KEY', 'TASK', 'RECONCILER', 'ACTION', 'REASON', 'CHANGE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line), '', `${entries.length} action(s) planned.`].join('\n');
}
