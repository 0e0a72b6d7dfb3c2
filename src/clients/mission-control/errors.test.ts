import { describe, expect, it } from 'vitest';
import type { HttpFailure } from '../http/errors.js';
import { MissionControlError, summarizeDetail } from './errors.js';

function failure(status: number | null, body: unknown, extra: Partial<HttpFailure> = {}): HttpFailure {
  return {
    kind: 'client',
    status,
    method: 'PATCH',
    path: '/boards/b1/tasks/t1',
    requestId: 'rid42',
    body,
    retryAfterMs: null,
    attempts: 1,
    ...extra,
  };
}

describe('MissionControlError', () => {
  it('401 says the token was rejected and where to set it', () => {
    const e = new MissionControlError(failure(401, { detail: 'Unauthorized' }, { kind: 'unauthorized', method: 'GET' }));
    expect(e.kind).toBe('unauthorized');
    expect(e.message).toContain('rejected the auth token');
    expect(e.message).toContain('MC_AUTH_TOKEN');
    expect(e.message).toContain('auth_token');
    expect(e.message).toContain('.local.json');
  });

  it('recognises the done gate and surfaces its message', () => {
    const e = new MissionControlError(
      failure(409, {
        detail: { message: 'Task can only be marked done when a linked approval has been approved.', blocked_by_task_ids: [] },
        request_id: 'rid42',
      }, { kind: 'conflict' }),
    );
    expect(e.isDoneGate()).toBe(true);
    expect(e.isPendingApprovalConflict()).toBe(false);
    expect(e.requestId).toBe('rid42');
    expect(e.message).toBe(
      'Mission Control PATCH /boards/b1/tasks/t1 409 conflict: Task can only be marked done when a linked approval has been approved. (request_id rid42)',
    );
  });

  it('recognises the one-pending-approval conflict and the pending-approval status block', () => {
    const one = new MissionControlError(
      failure(409, { detail: { message: 'Each task can have only one pending approval.', conflicts: [{ task_id: 't1', approval_id: 'a1' }] } }, { kind: 'conflict' }),
    );
    expect(one.isPendingApprovalConflict()).toBe(true);
    expect(one.isDoneGate()).toBe(false);
    const block = new MissionControlError(
      failure(409, { detail: { message: 'Task status cannot be changed while a linked approval is pending.' } }, { kind: 'conflict' }),
    );
    expect(block.isBlockedByPendingApproval()).toBe(true);
  });

  it('a 409 with a code exposes it', () => {
    const e = new MissionControlError(
      failure(409, { detail: { message: 'blocked', code: 'task_blocked_cannot_transition', blocked_by_task_ids: ['t9'] } }, { kind: 'conflict' }),
    );
    expect(e.code).toBe('task_blocked_cannot_transition');
    expect(e.message).toContain('blocked_by_task_ids: t9');
  });

  it('transient kinds are flagged', () => {
    expect(new MissionControlError(failure(null, null, { kind: 'timeout' })).transient).toBe(true);
    expect(new MissionControlError(failure(422, null, { kind: 'validation' })).transient).toBe(false);
  });
});

describe('summarizeDetail', () => {
  it('reads the FastAPI validation list', () => {
    expect(
      summarizeDetail([
        { type: 'literal_error', loc: ['body', 'status'], msg: "Input should be 'inbox', 'in_progress', 'review' or 'done'", input: 'stalled' },
        { type: 'less_than_equal', loc: ['query', 'limit'], msg: 'Input should be less than or equal to 200' },
      ]),
    ).toBe("body.status: Input should be 'inbox', 'in_progress', 'review' or 'done'; query.limit: Input should be less than or equal to 200");
  });

  it('reads the custom-field objects', () => {
    expect(summarizeDetail({ message: 'Unknown custom field keys for this board.', unknown_field_keys: ['mc_loop_id', 'mc_review_reason'] })).toBe(
      'Unknown custom field keys for this board. (unknown_field_keys: mc_loop_id, mc_review_reason)',
    );
    expect(
      summarizeDetail({ message: 'Invalid custom field value.', field_key: 'mc_retry_count', field_type: 'integer', reason: 'expected integer' }),
    ).toBe('Invalid custom field value. (field_key: mc_retry_count; field_type: integer; reason: expected integer)');
  });

  it('keeps bare strings and handles null', () => {
    expect(summarizeDetail('Method Not Allowed')).toBe('Method Not Allowed');
    expect(summarizeDetail(null)).toBe('');
  });

  it('keeps messages on one line', () => {
    const e = new MissionControlError(failure(422, { detail: 'line one\nline two' }, { kind: 'validation' }));
    expect(e.message).not.toContain('\n');
  });
});
