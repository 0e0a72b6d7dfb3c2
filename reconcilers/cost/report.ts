import { F, globalKey, idempotencyKey, messages, plausibleCost, type DiscordPostAction, type MessageCatalog, type MessageLocale, type Task } from '../../src/model/index.js';
import { CONTENT_LIMIT, escapeUntrusted, oneLine, refLine, truncate } from '../../src/model/discord-text.js';
import { taskLink } from '../approvals/format.js';
import { recordedCost } from './index.js';

/**
 * `mc-controller cost report` (legacy-kit.md §14, issue 5), pure: the command lists the tasks, this
 * module totals and formats them. Unlike the kit it counts every status (a failed run that went back to
 * review or in_progress cost money too), excludes zero-cost tasks from the top list, and totals per
 * board and per agent.
 */

export const COST_HEADER = (days: number): string => messages('pt-BR').costHeader(days);
const DAY_MS = 86_400_000;
const TITLE_MAX = 90;

export interface BoardTasks {
  boardId: string;
  name: string | null;
  tasks: readonly Task[];
}

export interface CostReportInput {
  boards: readonly BoardTasks[];
  days: number;
  now: number;
  /** legacy `agents` map: name → agent id; inverted to name the assignees */
  agents?: Record<string, string>;
  publicUrl?: string | null;
  top?: number;
}

export interface CostLine {
  id: string | null;
  name: string;
  tasks: number;
  costUsd: number;
}

export interface TopTask {
  boardId: string;
  taskId: string;
  title: string;
  status: Task['status'];
  costUsd: number;
  estimatedUsd: number | null;
  link: string | null;
}

export interface CostReport {
  days: number;
  since: string;
  generatedAt: string;
  boardIds: string[];
  tasks: number;
  totalUsd: number;
  estimatedUsd: number;
  byBoard: CostLine[];
  byAgent: CostLine[];
  top: TopTask[];
}

const round = (usd: number): number => Math.round(usd * 1e6) / 1e6;
const money = (usd: number): string => `$${usd.toFixed(2)}`;

function estimated(task: Task): number | null {
  return plausibleCost(task.fields[F.estimatedCost]);
}

/** The kit's window: `updated_at` (else `created_at`) within the last N days. */
export function inWindow(task: Task, since: number): boolean {
  const at = Number.isFinite(task.updatedAt) ? task.updatedAt : task.createdAt;
  return at >= since;
}

const byCostThenName = (a: CostLine, b: CostLine) => b.costUsd - a.costUsd || a.name.localeCompare(b.name);

export function buildCostReport(input: CostReportInput): CostReport {
  const since = input.now - input.days * DAY_MS;
  const names = new Map(Object.entries(input.agents ?? {}).map(([name, id]) => [id, name]));
  const boards: CostLine[] = [];
  const agents = new Map<string, CostLine>();
  const top: TopTask[] = [];
  let tasks = 0;
  let total = 0;
  let estimate = 0;
  for (const b of input.boards) {
    const line: CostLine = { id: b.boardId, name: b.name ?? b.boardId, tasks: 0, costUsd: 0 };
    for (const t of b.tasks) {
      if (!inWindow(t, since)) continue;
      const c = recordedCost(t);
      line.tasks += 1;
      line.costUsd += c;
      estimate += estimated(t) ?? 0;
      const agentKey = t.assignedAgentId ?? '';
      const agent = agents.get(agentKey) ?? {
        id: t.assignedAgentId,
        name: t.assignedAgentId ? (names.get(t.assignedAgentId) ?? t.assignedAgentId) : '(unassigned)',
        tasks: 0,
        costUsd: 0,
      };
      agent.tasks += 1;
      agent.costUsd += c;
      agents.set(agentKey, agent);
      if (c > 0) {
        top.push({
          boardId: b.boardId,
          taskId: t.id,
          title: t.title,
          status: t.status,
          costUsd: round(c),
          estimatedUsd: estimated(t),
          link: taskLink(input.publicUrl ?? null, b.boardId, t.id),
        });
      }
    }
    tasks += line.tasks;
    total += line.costUsd;
    boards.push({ ...line, costUsd: round(line.costUsd) });
  }
  top.sort((a, b) => b.costUsd - a.costUsd || a.taskId.localeCompare(b.taskId));
  return {
    days: input.days,
    since: new Date(since).toISOString(),
    generatedAt: new Date(input.now).toISOString(),
    boardIds: input.boards.map((b) => b.boardId),
    tasks,
    totalUsd: round(total),
    estimatedUsd: round(estimate),
    byBoard: boards.sort(byCostThenName),
    byAgent: [...agents.values()].map((a) => ({ ...a, costUsd: round(a.costUsd) })).sort(byCostThenName),
    top: top.slice(0, input.top ?? 5),
  };
}

/**
 * Same boards, same range, same UTC day → same key, hence the same Discord nonce and ref line: a re-run the
 * same day is deduplicated by Discord within its nonce window, and found by its ref line after it.
 */
export function reportKey(report: Pick<CostReport, 'boardIds' | 'days' | 'generatedAt'>): string {
  return idempotencyKey('cost-report', [...report.boardIds].sort(), report.days, report.generatedAt.slice(0, 10));
}

function sections(report: CostReport, limits: { lines: number; title: number }, m: MessageCatalog): string[] {
  const lines = [m.costHeader(report.days), `${m.costTasks}: ${report.tasks}`, `${m.costTotal} (mc_actual_cost_usd): ${money(report.totalUsd)}`];
  if (report.estimatedUsd > 0) lines.push(`${m.costEstimated} (mc_estimated_cost_usd): ${money(report.estimatedUsd)}`);
  const named = (l: CostLine) => escapeUntrusted(truncate(oneLine(l.name), 60));
  if (report.byBoard.length > 1) {
    lines.push(m.costByBoard, ...report.byBoard.slice(0, limits.lines).map((l) => `- ${named(l)}: ${money(l.costUsd)} (${l.tasks} tasks)`));
  }
  if (report.byAgent.length > 0) {
    lines.push(m.costByAgent, ...report.byAgent.slice(0, limits.lines).map((l) => `- ${named(l)}: ${money(l.costUsd)} (${l.tasks} tasks)`));
  }
  if (report.top.length > 0) {
    lines.push(
      m.costTop(Math.min(report.top.length, limits.lines)),
      ...report.top.slice(0, limits.lines).map((t) => {
        const title = escapeUntrusted(truncate(oneLine(t.title), limits.title));
        return `- ${money(t.costUsd)} | ${title} | ${t.status}${t.link ? ` | <${t.link}>` : ''}`;
      }),
    );
  }
  return lines;
}

/**
 * The Discord message: the legacy header and lines, every title and name escaped, within 2000 characters.
 * Long lists shrink step by step (fewer lines, shorter titles) before the last-resort cut.
 */
export function costReportMessage(report: CostReport, locale?: MessageLocale): { content: string; idempotencyKey: string } {
  const m = messages(locale);
  const key = reportKey(report);
  const footer = refLine(key);
  for (const limits of [
    { lines: 10, title: TITLE_MAX },
    { lines: 5, title: TITLE_MAX },
    { lines: 5, title: 40 },
    { lines: 3, title: 30 },
  ]) {
    const content = [...sections(report, limits, m), footer].join('\n');
    if (content.length <= CONTENT_LIMIT) return { content, idempotencyKey: key };
  }
  const body = sections(report, { lines: 3, title: 30 }, m).join('\n');
  return { content: `${truncate(body, CONTENT_LIMIT - footer.length - 1)}\n${footer}`, idempotencyKey: key };
}

/**
 * `cost report --post`: the report as a `discord.post` to the cost channel. Its idempotency key is the report's
 * (one a day), so the nonce and the ref line are those of the message itself.
 */
export function costReportPost(report: CostReport, locale?: MessageLocale): DiscordPostAction {
  const message = costReportMessage(report, locale);
  return {
    type: 'discord.post',
    key: globalKey('cost-report'),
    reconciler: 'cost',
    reason: `cost report of the last ${report.days} days (${report.generatedAt.slice(0, 10)})`,
    idempotencyKey: message.idempotencyKey,
    purpose: 'cost',
    content: message.content,
  };
}

/** The terminal form: the same figures, unescaped, with four decimals and ids. */
export function costReportText(report: CostReport): string {
  const usd = (n: number) => `$${n.toFixed(4)}`;
  const lines = [
    `Cost report, last ${report.days} days (since ${report.since})`,
    `Tasks: ${report.tasks}   total: ${usd(report.totalUsd)}   estimated: ${usd(report.estimatedUsd)}`,
    '',
    'By board:',
    ...report.byBoard.map((l) => `  ${usd(l.costUsd).padStart(12)}  ${String(l.tasks).padStart(5)} tasks  ${l.name}${l.name !== l.id ? ` (${l.id})` : ''}`),
    'By agent:',
    ...report.byAgent.map((l) => `  ${usd(l.costUsd).padStart(12)}  ${String(l.tasks).padStart(5)} tasks  ${l.name}`),
    `Top ${report.top.length} by cost:`,
    ...report.top.map((t) => `  ${usd(t.costUsd).padStart(12)}  ${t.status.padEnd(11)}  ${oneLine(t.title)} (${t.taskId})${t.link ? `  ${t.link}` : ''}`),
  ];
  return lines.join('\n');
}
