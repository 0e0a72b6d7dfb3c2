import type { Task, TaskComment } from '../../src/model/index.js';

export type SummarySource = 'mc_output_summary' | 'comment' | 'description' | 'none';

export const OUTPUT_SUMMARY_FIELD = 'mc_output_summary';

const SUMMARY_LINE = /^\s*summary=(.*)$/;

export function outputSummaryOf(task: Task): string | null {
  const value = task.fields[OUTPUT_SUMMARY_FIELD];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/**
 * The newest `summary=` line in the comments (TASK_UPDATE writes one per update, legacy-kit.md §9).
 * Within one comment the last such line wins, like the kit's "last parsed block wins".
 */
export function commentSummaryOf(comments: readonly TaskComment[]): string | null {
  const newestFirst = [...comments].sort((a, b) => b.createdAt - a.createdAt);
  for (const comment of newestFirst) {
    const lines = comment.message.split(/\r?\n/);
    for (let i = lines.length - 1; i >= 0; i--) {
      const value = SUMMARY_LINE.exec(lines[i]!)?.[1]?.trim();
      if (value) return value;
    }
  }
  return null;
}

/** mc_output_summary, else the newest comment `summary=` line, else the description (legacy order, fallback revived). */
export function pickSummary(task: Task, comments: readonly TaskComment[] | undefined): { text: string; source: SummarySource } {
  const fromField = outputSummaryOf(task);
  if (fromField) return { text: fromField, source: 'mc_output_summary' };
  const fromComment = comments ? commentSummaryOf(comments) : null;
  if (fromComment) return { text: fromComment, source: 'comment' };
  const description = task.description?.trim();
  if (description) return { text: description, source: 'description' };
  return { text: '(sem resumo)', source: 'none' };
}
