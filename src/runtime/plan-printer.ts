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

/** A row of the plan: a planned or applied action, or a custom-field change of the bootstrap. */
type Row = PlannedEntry | AppliedEntry | BootstrapRow;
export interface BootstrapRow extends PlannedEntry {
  /** `run`/`once` apply it before their pass (MC_AUTO_BOOTSTRAP) */
  auto: boolean;
}

/** The bootstrap's pending field changes as plan rows; `run`/`once` apply them first unless MC_AUTO_BOOTSTRAP is off. */
export function bootstrapRows(entries: readonly PlannedEntry[], auto: boolean): BootstrapRow[] {
  const when = auto ? 'run/once add it first' : 'run `mc-controller bootstrap`';
  return entries.map((e) => ({ ...e, reason: `${e.reason}; ${when}`, auto }));
}

/** One JSON object per line: key, reconciler, action, reason, idempotencyKey and the field diff. */
export function planJsonLines(entries: readonly Row[]): string {
  return entries
    .map((e) =>
      JSON.stringify({
        key: e.key,
        reconciler: e.reconciler,
        action: e.action,
        ...(e.title !== undefined ? { title: e.title } : {}),
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
export function actionLine(e: Row): string {
  const id = /^task\/[^/]+\/(.+)$/.exec(e.key)?.[1];
  const who = e.title !== undefined && id ? `"${shortTitle(e.title)}" (${id.slice(0, 8)}): ` : '';
  return `${who}${e.action}: ${e.reason}`;
}

/** A readable table for a terminal. */
export function planTable(entries: readonly Row[], failures: readonly FailedKey[] = []): string {
  const failed = failures.map((f) => `FAILED ${f.key.replace(/^task\/[^/]+\//, 'task/')}: ${clip(f.error ?? 'failed', 200)}`);
  const tail = failures.length > 0 ? ['', ...failed, `${failures.length} key(s) could not be planned.`] : [];
  if (entries.length === 0)
    return failures.length > 0 ? [`No changes planned for the keys that could be read.`, ...tail].join('\n') : 'No changes: the board matches the desired state.';
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
  const fields = entries.filter((e): e is BootstrapRow => e.reconciler === 'bootstrap');
  const note =
    fields.length === 0
      ? []
      : [
          fields.some((f) => f.auto)
            ? `${fields.length} custom field change(s) first: \`run\` and \`once\` bootstrap them (MC_AUTO_BOOTSTRAP), and the other rows assume they are done.`
            : `${fields.length} custom field change(s) missing: MC_AUTO_BOOTSTRAP is off, run \`mc-controller bootstrap\`; until then the concerns that need them do nothing.`,
        ];
  return [line(head), ...rows.map(line), '', `${entries.length} action(s) planned.`, ...note, ...tail].join('\n');
}
