import { describe, expect, it } from 'vitest';
import { ApprovalReadSchema, BoardReadSchema, FieldDefinitionReadSchema, parseMcTimestamp, parseRows, TaskReadSchema } from './schema.js';

describe('parseMcTimestamp', () => {
  it.each([
    ['2026-03-01T12:34:56.123456', '2026-03-01T12:34:56.123Z'],
    ['2026-03-01T12:34:56', '2026-03-01T12:34:56.000Z'],
    ['2026-03-01 12:34:56.5', '2026-03-01T12:34:56.500Z'],
    ['2026-03-01T12:34:56.123456Z', '2026-03-01T12:34:56.123Z'],
    ['2026-03-01T14:34:56+02:00', '2026-03-01T12:34:56.000Z'],
    ['2026-03-01T07:34:56.1-0500', '2026-03-01T12:34:56.100Z'],
    ['2026-03-01', '2026-03-01T00:00:00.000Z'],
  ])('%s is read as UTC (%s)', (text, iso) => {
    expect(parseMcTimestamp(text)).toBe(Date.parse(iso));
  });

  it('does not depend on the local time zone', () => {
    // naive strings must not go through Date.parse as local time
    expect(parseMcTimestamp('2026-07-01T00:00:00')).toBe(Date.UTC(2026, 6, 1));
  });

  it.each(['', 'yesterday', '2026-13-45T99:99:99', '12:00', '2026-03-01T12:34:56+2'])('%j is rejected', (text) => {
    expect(parseMcTimestamp(text)).toBeNull();
  });
});

const taskRow = {
  id: 't1',
  board_id: 'b1',
  title: 'Write docs',
  description: null,
  status: 'in_progress',
  priority: 'high',
  due_at: null,
  assigned_agent_id: 'a1',
  created_by_user_id: 'u1',
  in_progress_at: '2026-03-01T12:00:00',
  created_at: '2026-03-01T11:00:00.000001',
  updated_at: '2026-03-01T12:00:00.5',
  depends_on_task_ids: [],
  tags: [],
  custom_field_values: { mc_retry_count: 2 },
  some_future_field: 'kept',
};

describe('wire schemas', () => {
  it('convert a TaskRead to the camelCase model with epoch-ms timestamps', () => {
    expect(TaskReadSchema.parse(taskRow)).toEqual({
      id: 't1',
      boardId: 'b1',
      title: 'Write docs',
      description: null,
      status: 'in_progress',
      priority: 'high',
      assignedAgentId: 'a1',
      inProgressAt: Date.UTC(2026, 2, 1, 12),
      createdAt: Date.UTC(2026, 2, 1, 11),
      updatedAt: Date.UTC(2026, 2, 1, 12, 0, 0, 500),
      fields: { mc_retry_count: 2 },
    });
  });

  it('fill upstream defaults for missing optional keys', () => {
    const { custom_field_values: _c, priority: _p, in_progress_at: _i, ...minimal } = taskRow;
    const task = TaskReadSchema.parse(minimal);
    expect(task.fields).toEqual({});
    expect(task.priority).toBe('medium');
    expect(task.inProgressAt).toBeNull();
    expect(BoardReadSchema.parse({ id: 'b', name: 'B', updated_at: '2026-03-01T00:00:00' }).requireApprovalForDone).toBe(true);
  });

  it('read approvals and field definitions', () => {
    const a = ApprovalReadSchema.parse({
      id: 'ap1',
      board_id: 'b1',
      action_type: 'manual_override',
      task_id: 't1',
      task_ids: ['t1', 't2'],
      task_titles: ['A', 'B'],
      payload: { reason: 'why' },
      confidence: 80,
      rubric_scores: null,
      status: 'approved',
      agent_id: null,
      created_at: '2026-03-01T10:00:00',
      resolved_at: '2026-03-01T10:05:00',
    });
    expect(a).toMatchObject({ taskIds: ['t1', 't2'], status: 'approved', resolvedAt: Date.UTC(2026, 2, 1, 10, 5) });
    const f = FieldDefinitionReadSchema.parse({
      id: 'f1',
      organization_id: 'o',
      field_key: 'mc_progress',
      label: 'mc_progress',
      field_type: 'integer',
      ui_visibility: 'if_set',
      required: false,
      default_value: 0,
      board_ids: ['b1'],
      created_at: '2026-03-01T10:00:00',
    });
    expect(f).toMatchObject({ fieldKey: 'mc_progress', fieldType: 'integer', defaultValue: 0, boardIds: ['b1'] });
  });

  it('parseRows keeps good rows and rejects bad ones with id and one-line problem', () => {
    const rows = [taskRow, { ...taskRow, id: 't2', status: 'stalled' }, { ...taskRow, id: 't3', created_at: 'never' }, 42, { ...taskRow, id: 't4' }];
    const { items, rejected } = parseRows(rows, TaskReadSchema, 'task');
    expect(items.map((t) => t.id)).toEqual(['t1', 't4']);
    expect(rejected.map((r) => r.id)).toEqual(['t2', 't3', null]);
    expect(rejected[0]?.problem).toMatch(/^status: /);
    expect(rejected[1]?.problem).toMatch(/created_at: not an ISO-8601 timestamp/);
    for (const r of rejected) {
      expect(r.kind).toBe('task');
      expect(r.problem).not.toContain('\n');
    }
  });
});
