import { describe, expect, it } from 'vitest';
import { findTaskUpdates, lastTaskUpdate, scanObject } from './parse.js';

describe('TASK_UPDATE scanner', () => {
  it.each([
    ['braces inside a string', 'TASK_UPDATE {"status":"done","summary":"fixed {a} and }b{"}', { status: 'done', summary: 'fixed {a} and }b{' }],
    ['escaped quotes', 'task_update {"status":"in_progress","summary":"said \\"hi }\\" ok"}', { status: 'in_progress', summary: 'said "hi }" ok' }],
    ['escaped backslash before a closing quote', 'TASK_UPDATE {"summary":"C:\\\\dir\\\\","progress":5}', { summary: 'C:\\dir\\', progress: 5 }],
    ['text between keyword and object', 'Task_Update: here it is -> {"status":"Running"}', { status: 'running' }],
    ['nested objects', 'TASK_UPDATE {"status":"done","meta":{"a":{"b":1}},"progress":"80"}', { status: 'done', progress: 80 }],
    ['progress clamped', 'TASK_UPDATE {"progress":250}', { progress: 100 }],
    ['negative progress clamped', 'TASK_UPDATE {"progress":-3.4}', { progress: 0 }],
    ['bad progress dropped (not 0)', 'TASK_UPDATE {"status":"in_progress","progress":"lots"}', { status: 'in_progress' }],
    ['status normalised', 'TASK_UPDATE {"status":"Awaiting-Human"}', { status: 'awaiting_human' }],
    ['null error not recorded', 'TASK_UPDATE {"status":"done","error":null,"summary":"ok"}', { status: 'done', summary: 'ok' }],
    ['task_id alias and scalar artifact', 'TASK_UPDATE {"task_id":"t-9","artifacts":"out.txt","cost":"0.25"}', { taskId: 't-9', artifacts: ['out.txt'], cost: 0.25 }],
    ['an absurd cost dropped (finite but unbounded)', 'TASK_UPDATE {"status":"done","cost":1e308}', { status: 'done' }],
    ['a cost past the bound dropped', 'TASK_UPDATE {"status":"done","cost":"2000000"}', { status: 'done' }],
    ['a negative cost dropped', 'TASK_UPDATE {"status":"done","cost":-1}', { status: 'done' }],
  ])('%s', (_name, input, expected) => {
    expect(lastTaskUpdate(input)?.update).toEqual(expected);
  });

  it('several blocks: the last VALID one wins', () => {
    const input = [
      'TASK_UPDATE {"status":"in_progress","progress":10}',
      'some prose',
      'TASK_UPDATE {"status":"done","progress":100}',
      'TASK_UPDATE {"status":"failed", oops not json}',
    ].join('\n');
    expect(findTaskUpdates(input).map((b) => b.update.progress)).toEqual([10, 100]);
    expect(lastTaskUpdate(input)?.update).toEqual({ status: 'done', progress: 100 });
  });

  it('an unterminated block is skipped and the scan goes on', () => {
    expect(lastTaskUpdate('TASK_UPDATE {"status":"done", "summary":"never closed')).toBeNull();
    expect(lastTaskUpdate('TASK_UPDATE {"progress":1} then TASK_UPDATE {"progress":')?.update).toEqual({ progress: 1 });
  });

  it('a keyword whose object belongs to the next keyword does not steal it', () => {
    const blocks = findTaskUpdates('TASK_UPDATE pending… TASK_UPDATE {"progress":3}');
    expect(blocks).toHaveLength(1);
  });

  it.each([[''], ['   '], ['no keyword here'], ['TASK_UPDATE'], ['TASK_UPDATE [1,2]'], ['TASK_UPDATE {not json}'], ['{"broken": ']])('garbage %j yields nothing', (input) => {
    expect(lastTaskUpdate(input)).toBeNull();
  });

  it('falls back to the whole input when it is one JSON object (like the kit)', () => {
    expect(lastTaskUpdate('  {"status":"done","summary":"all good"}\n')?.update).toEqual({ status: 'done', summary: 'all good' });
    expect(lastTaskUpdate('[{"status":"done"}]')).toBeNull();
  });

  it('scanObject returns the end of a balanced object, -1 when unterminated', () => {
    expect(scanObject('x{"a":"}"}y', 1)).toBe(10);
    expect(scanObject('{"a":{"b":1}', 0)).toBe(-1);
  });
});
