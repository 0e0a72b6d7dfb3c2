import { messages, type Approval, type MessageLocale, type Task } from '../../src/model/index.js';
import { escapeUntrusted, fitMessage, oneLine, refLine, truncate, type FittedMessage } from '../../src/model/discord-text.js';

export const NOTICE_HEADER = messages('pt-BR').approvalHeader;
const TITLE_MAX = 120;
const OTHER_TASKS_MAX = 3;
const OTHER_TITLE_MAX = 60;

/** Upstream copies the lead's reasoning into `payload.reason`; `payload.decision.reason` is the other accepted spot. */
export function reasonOf(approval: Approval): string | null {
  const payload = approval.payload ?? {};
  const direct = payload['reason'];
  if (typeof direct === 'string' && direct.trim() !== '') return direct.trim();
  const decision = payload['decision'];
  if (decision && typeof decision === 'object') {
    const nested = (decision as Record<string, unknown>)['reason'];
    if (typeof nested === 'string' && nested.trim() !== '') return nested.trim();
  }
  return null;
}

export function taskLink(publicUrl: string | null, boardId: string, taskId: string | null): string | null {
  if (!publicUrl) return null;
  const board = `${publicUrl.replace(/\/+$/, '')}/boards/${encodeURIComponent(boardId)}`;
  return taskId ? `${board}?task=${encodeURIComponent(taskId)}` : board;
}

const titleLine = (title: string, max = TITLE_MAX) => escapeUntrusted(truncate(oneLine(title), max));

/** Other tasks the approval links, so a multi-task approval announced once still names them all. */
function otherTasksLine(approval: Approval, ownerId: string, label: string): string | null {
  const others = approval.taskIds
    .map((id, i) => ({ id, title: approval.taskTitles[i] }))
    .filter((t) => t.id !== ownerId);
  if (others.length === 0) return null;
  const shown = others
    .slice(0, OTHER_TASKS_MAX)
    .map((t) => (t.title ? `${titleLine(t.title, OTHER_TITLE_MAX)} (${t.id})` : t.id));
  const more = others.length > OTHER_TASKS_MAX ? ` +${others.length - OTHER_TASKS_MAX}` : '';
  return `${label}: ${shown.join(', ')}${more}`;
}

/** The legacy notice (legacy-kit.md §13) minus the fields upstream never had, plus other linked tasks. */
export function noticeMessage(
  approval: Approval,
  task: Pick<Task, 'id' | 'title'> | null,
  link: string | null,
  idempotencyKey: string,
  locale?: MessageLocale,
): FittedMessage {
  const m = messages(locale);
  const header = [
    m.approvalHeader,
    ...(task ? [`Task: ${titleLine(task.title)}`, `Task ID: ${task.id}`] : [`Task: ${m.noLinkedTask}`]),
    `Approval ID: ${approval.id}`,
    `Status: ${approval.status}`,
  ];
  const others = task ? otherTasksLine(approval, task.id, m.otherTasks) : null;
  if (others) header.push(others);
  const footer = [...(link ? [`Link: ${link}`] : []), refLine(idempotencyKey)];
  const reason = reasonOf(approval);
  if (!reason) return { content: [...header, ...footer].join('\n') };
  return fitMessage({ header, bodyLabel: `${m.reason}: `, body: escapeUntrusted(reason), footer });
}

/** One short line once an announced approval is resolved. */
export function followUpMessage(
  approval: Approval,
  task: Pick<Task, 'title'> | null,
  link: string | null,
  idempotencyKey: string,
): FittedMessage {
  const icon = approval.status === 'approved' ? '✅' : '❌';
  const lines = [`${icon} Approval ${approval.id} ${approval.status}${task ? ` — Task: ${titleLine(task.title)}` : ''}`];
  if (link) lines.push(`Link: ${link}`);
  lines.push(refLine(idempotencyKey));
  return { content: lines.join('\n') };
}
