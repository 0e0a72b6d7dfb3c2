import { describe, expect, it } from 'vitest';
import { CONTENT_LIMIT } from '../../src/model/discord-text.js';
import { MIN, NOW, task } from '../../test/support/fixtures.js';
import { actionSchema } from '../../src/model/index.js';
import { COST_HEADER, buildCostReport, costReportMessage, costReportPost, costReportText, reportKey } from './report.js';

const DAY = 24 * 60 * MIN;
const costly = (id: string, usd: unknown, over: Parameters<typeof task>[0] = {}) =>
  task({ id, title: `Task ${id}`, updatedAt: NOW - DAY, ...over, fields: { mc_actual_cost_usd: usd, ...(over.fields ?? {}) } });

describe('cost report', () => {
  const boards = [
    {
      boardId: 'b1',
      name: 'Ops',
      tasks: [
        costly('a', 1.25, { status: 'done', assignedAgentId: 'uuid-luna' }),
        costly('b', 0.5, { status: 'review', assignedAgentId: 'uuid-luna' }),
        costly('c', 0, { status: 'done' }),
        costly('d', 'garbage', { status: 'in_progress', assignedAgentId: 'uuid-unknown' }),
        costly('old', 99, { status: 'done', updatedAt: NOW - 8 * DAY }),
      ],
    },
    { boardId: 'b2', name: 'Research', tasks: [costly('e', 2, { status: 'in_progress', assignedAgentId: 'uuid-sol', fields: { mc_estimated_cost_usd: 3 } })] },
  ];
  const report = buildCostReport({ boards, days: 7, now: NOW, agents: { luna: 'uuid-luna', sol: 'uuid-sol' }, publicUrl: 'http://mc.local/' });

  it('totals tasks of every status within the window, per board and per agent (names from the agents map)', () => {
    expect(report.tasks).toBe(5);
    expect(report.totalUsd).toBe(3.75);
    expect(report.estimatedUsd).toBe(3);
    expect(report.byBoard).toEqual([
      { id: 'b2', name: 'Research', tasks: 1, costUsd: 2 },
      { id: 'b1', name: 'Ops', tasks: 4, costUsd: 1.75 },
    ]);
    expect(report.byAgent.map((a) => [a.name, a.costUsd, a.tasks])).toEqual([
      ['sol', 2, 1],
      ['luna', 1.75, 2],
      ['(unassigned)', 0, 1],
      ['uuid-unknown', 0, 1],
    ]);
  });

  it('the top list is by cost, zero and unreadable costs excluded, with dashboard links', () => {
    expect(report.top.map((t) => [t.taskId, t.costUsd, t.status])).toEqual([
      ['e', 2, 'in_progress'],
      ['a', 1.25, 'done'],
      ['b', 0.5, 'review'],
    ]);
    expect(report.top[0]?.link).toBe('http://mc.local/boards/b2?task=e');
  });

  it('the Discord message has the legacy header and lines, escapes titles, stays under 2000', () => {
    const { content } = costReportMessage(report);
    expect(content.split('\n').slice(0, 3)).toEqual([COST_HEADER(7), 'Tasks consideradas: 5', 'Custo total (mc_actual_cost_usd): $3.75']);
    expect(content).toContain('- $2.00 | Task e | in_progress | <http://mc.local/boards/b2?task=e>');
    const noisy = buildCostReport({
      boards: [{ boardId: 'b', name: 'B', tasks: Array.from({ length: 60 }, (_, i) => costly(`t${i}`, i + 1, { title: `@everyone **bold** ${'x'.repeat(200)}`, assignedAgentId: `agent-${i}` })) }],
      days: 7,
      now: NOW,
      top: 50,
    });
    const message = costReportMessage(noisy).content;
    expect(message.length).toBeLessThanOrEqual(CONTENT_LIMIT);
    expect(message).not.toMatch(/@everyone/);
    expect(message).toContain('\\*\\*bold\\*\\*');
    expect(message.split('\n').at(-1)).toMatch(/^-# ref /);
  });

  it('the post key is stable for the same boards, range and day, and differs otherwise', () => {
    const again = buildCostReport({ boards: [...boards].reverse(), days: 7, now: NOW + 60 * MIN, agents: {} });
    expect(reportKey(again)).toBe(reportKey(report));
    expect(reportKey({ ...report, days: 30 })).not.toBe(reportKey(report));
    expect(reportKey({ ...report, generatedAt: new Date(NOW + DAY).toISOString() })).not.toBe(reportKey(report));
  });

  it('--post plans one valid discord.post to the cost channel under the report key', () => {
    const action = costReportPost(report, 'en');
    expect(actionSchema.safeParse(action).success).toBe(true);
    expect(action).toMatchObject({ type: 'discord.post', purpose: 'cost', key: 'global/cost-report', idempotencyKey: reportKey(report) });
    expect(action.content).toBe(costReportMessage(report, 'en').content);
  });

  it('absurd recorded costs (1e308, Infinity as text) count as unreadable: totals stay finite, never $Infinity', () => {
    const wild = buildCostReport({
      boards: [{ boardId: 'b9', name: 'Wild', tasks: [costly('w1', 1e308, { status: 'done' }), costly('w2', 1e308, { status: 'done' }), costly('w3', 'Infinity'), costly('w4', 2)] }],
      days: 7,
      now: NOW,
      agents: {},
    });
    expect(wild.totalUsd).toBe(2);
    const text = `${costReportText(wild)}\n${costReportMessage(wild).content}`;
    expect(text).not.toMatch(/Infinity|NaN|e\+/);
  });

  it('prints a readable terminal form', () => {
    const text = costReportText(report);
    expect(text).toMatch(/Tasks: 5 +total: \$3\.7500/);
    expect(text).toMatch(/Research \(b2\)/);
  });
});
