import { messages, type MessageLocale, type Task } from '../../src/model/index.js';
import { escapeUntrusted, fitMessage, oneLine, refLine, truncate, type FittedMessage } from '../../src/model/discord-text.js';

export const DELIVERY_HEADER = messages('pt-BR').deliveryHeader;
const TITLE_MAX = 110;

function progressOf(task: Task): string {
  const value = task.fields['mc_progress'];
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return escapeUntrusted(oneLine(value)).slice(0, 20);
  return '0';
}

/** The legacy delivery message (legacy-kit.md §11), every agent-written part escaped, fitted to Discord's limits. */
export function deliveryMessage(task: Task, summary: string, idempotencyKey: string, locale?: MessageLocale): FittedMessage {
  const m = messages(locale);
  return fitMessage({
    header: [
      m.deliveryHeader,
      `Task: ${escapeUntrusted(truncate(oneLine(task.title), TITLE_MAX))}`,
      `Task ID: ${task.id}`,
      `${m.progress}: ${progressOf(task)}%`,
    ],
    bodyLabel: `${m.result}: `,
    body: escapeUntrusted(summary),
    footer: [refLine(idempotencyKey)],
  });
}
