import type { AppliedEntry, PlannedEntry } from './executor.js';

/** A key that could not be planned (its snapshot or plan failed): shown, never left out of a plan. */
export interface FailedKey {
  key: string;
  error?: string;
}

/** One JSON object per failed key: `{key, error}`. */
export function failureJsonLines(failures: readonly FailedKey[]): string {
  return failures.map((f) => JSON.stringify({ key: f.key, error: f.error ?? 'failed' })).join('\n');
}

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

/** A readable table for a terminal. */
export function planTable(entries: readonly (PlannedEntry | AppliedEntry)[], failures: readonly FailedKey[] = []): string {
  const failed = failures.map((f) => `FAILED ${f.key.replace(/^task\/[^/]+\//, 'task/')}: ${clip(f.error ?? 'failed', 200)}`);
  const tail = failures.length > 0 ? ['', ...failed, `${failures.length} key(s) could not be planned.`] : [];
  if (entries.length === 0)
    return failures.length > 0 ? [`No changes planned for the keys that could be read.`, ...tail].join('\n') : 'No changes: the board matches the desired state.';
  const rows = entries.map((e) => [clip(e.key.replace(/^task\/[^/]+\//, 'task/'), 44), e.reconciler, e.action, clip(e.reason, 60), clip(e.summary, 90)]);
  const head = ['KEY', 'RECONCILER', 'ACTION', 'REASON', 'CHANGE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), ...rows.map(line), '', `${entries.length} action(s) planned.`, ...tail].join('\n');
}
