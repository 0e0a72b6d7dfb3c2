import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MissionControlClient, PAGE_LIMIT } from './client.js';
import { MissionControlError } from './errors.js';

const ORIGIN = 'http://mc.test';
const TOKEN = 'a-local-auth-token-of-more-than-fifty-characters-0123456789';

let agent: MockAgent;
let calls: { method: string; path: string; query: URLSearchParams; body: unknown }[];

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
  calls = [];
});
afterEach(async () => {
  await agent.close();
});

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

/** routes `METHOD path` to a function of the request; persists until the test ends */
function route(method: string, path: string, answer: (q: URLSearchParams, body: unknown) => Reply): void {
  agent
    .get(ORIGIN)
    .intercept({ path: (p) => p.split('?')[0] === `/api/v1${path}`, method })
    .reply((opts) => {
      const url = new URL(opts.path, ORIGIN);
      const body = typeof opts.body === 'string' ? (JSON.parse(opts.body) as unknown) : undefined;
      calls.push({ method: opts.method, path: url.pathname, query: url.searchParams, body });
      const r = answer(url.searchParams, body);
      return {
        statusCode: r.status,
        data: JSON.stringify(r.body ?? null),
        responseOptions: { headers: { 'content-type': 'application/json', 'x-request-id': 'hdr-rid', ...r.headers } },
      };
    })
    .persist();
}

function client(extra: Partial<ConstructorParameters<typeof MissionControlClient>[0]> = {}) {
  return new MissionControlClient({
    apiUrl: `${ORIGIN}/api/v1`,
    token: TOKEN,
    dispatcher: agent,
    backoff: { baseMs: 1, capMs: 5 },
    ...extra,
  });
}

function taskRow(i: number, extra: Record<string, unknown> = {}) {
  return {
    id: `t${i}`,
    board_id: 'b1',
    title: `Task ${i}`,
    description: null,
    status: 'inbox',
    priority: 'medium',
    assigned_agent_id: null,
    in_progress_at: null,
    created_at: '2026-03-01T12:00:00.000000',
    updated_at: '2026-03-01T12:00:00.000000',
    custom_field_values: {},
    ...extra,
  };
}

/** a well-behaved paged listing of `rows` */
function paged(rows: unknown[]) {
  return (q: URLSearchParams): Reply => {
    const limit = Number(q.get('limit'));
    const offset = Number(q.get('offset'));
    if (limit > 200) return { status: 422, body: { detail: [{ loc: ['query', 'limit'], msg: 'too big' }] } };
    return { status: 200, body: { items: rows.slice(offset, offset + limit), total: rows.length, limit, offset } };
  };
}

describe('listTasks', () => {
  it('reads every page at limit 200', async () => {
    const rows = Array.from({ length: 450 }, (_, i) => taskRow(i));
    route('GET', '/boards/b1/tasks', paged(rows));
    const mc = client();
    const listed = await mc.listTasks('b1');
    expect(listed.items).toHaveLength(450);
    expect(new Set(listed.items.map((t) => t.id)).size).toBe(450);
    expect(listed.rejected).toEqual([]);
    expect(listed.requests).toBe(3);
    expect(calls.map((c) => [c.query.get('limit'), c.query.get('offset')])).toEqual([
      [String(PAGE_LIMIT), '0'],
      [String(PAGE_LIMIT), '200'],
      [String(PAGE_LIMIT), '400'],
    ]);
    expect(mc.stats).toMatchObject({ requests: 3, writes: 0 });
  });

  it('sends the status filter as a comma list', async () => {
    route('GET', '/boards/b1/tasks', paged([taskRow(1, { status: 'review' })]));
    await client().listTasks('b1', { statuses: ['in_progress', 'review'] });
    expect(calls[0]?.query.get('status')).toBe('in_progress,review');
  });

  it('returns the good rows of a page and rejects the malformed ones', async () => {
    const rows = [taskRow(1), taskRow(2, { status: 'stalled' }), { nonsense: true }, taskRow(4, { updated_at: 'later' }), taskRow(5)];
    route('GET', '/boards/b1/tasks', paged(rows));
    const listed = await client().listTasks('b1');
    expect(listed.items.map((t) => t.id)).toEqual(['t1', 't5']);
    expect(listed.rejected.map((r) => [r.kind, r.id])).toEqual([
      ['task', 't2'],
      ['task', null],
      ['task', 't4'],
    ]);
  });

  it('stops when a server ignores offset and repeats the first page', async () => {
    route('GET', '/boards/b1/tasks', () => ({
      status: 200,
      body: { items: Array.from({ length: 200 }, (_, i) => taskRow(i)), total: 1_000_000, limit: 200, offset: 0 },
    }));
    const listed = await client().listTasks('b1');
    expect(listed.items).toHaveLength(200);
    expect(listed.requests).toBe(2);
  });

  it('stops after maxPages when a server keeps inventing rows', async () => {
    let n = 0;
    route('GET', '/boards/b1/tasks', () => ({
      status: 200,
      body: { items: [taskRow(n++)], total: 1_000_000, limit: 200, offset: 0 },
    }));
    const listed = await client({ maxPages: 7 }).listTasks('b1');
    expect(listed.requests).toBe(7);
  });

  it('stops on an empty page even if total claims more', async () => {
    route('GET', '/boards/b1/tasks', (q) => ({
      status: 200,
      body: { items: q.get('offset') === '0' ? [taskRow(1)] : [], total: 50, limit: 200, offset: 0 },
    }));
    const listed = await client().listTasks('b1');
    expect(listed.items).toHaveLength(1);
    expect(listed.requests).toBe(2);
  });

  it('deduplicates a row that shifted onto the next page', async () => {
    const first = Array.from({ length: 200 }, (_, i) => taskRow(i));
    route('GET', '/boards/b1/tasks', (q) => ({
      status: 200,
      body:
        q.get('offset') === '0'
          ? { items: first, total: 201, limit: 200, offset: 0 }
          : { items: [taskRow(199)], total: 201, limit: 200, offset: 200 },
    }));
    const listed = await client().listTasks('b1');
    expect(listed.items).toHaveLength(200);
  });

  it('retries a failed page (GET) and counts the retry as a request', async () => {
    let first = true;
    route('GET', '/boards/b1/tasks', (q) => {
      if (first) {
        first = false;
        return { status: 503, body: { detail: 'Service Unavailable' } };
      }
      return paged([taskRow(1)])(q);
    });
    const mc = client();
    const listed = await mc.listTasks('b1');
    expect(listed.items).toHaveLength(1);
    expect(mc.stats).toMatchObject({ requests: 2, retries: 1, writes: 0 });
  });

  it('throws invalid_response for an envelope that is not a page', async () => {
    route('GET', '/boards/b1/tasks', () => ({ status: 200, body: [taskRow(1)] }));
    const err = (await client().listTasks('b1').catch((e: unknown) => e)) as MissionControlError;
    expect(err).toBeInstanceOf(MissionControlError);
    expect(err.kind).toBe('invalid_response');
  });
});

describe('writes', () => {
  it('createTask sends snake_case and returns the model task', async () => {
    route('POST', '/boards/b1/tasks', (_q, body) => ({ status: 200, body: taskRow(9, body as Record<string, unknown>) }));
    const mc = client();
    const task = await mc.createTask('b1', { title: 'New', status: 'in_progress', customFieldValues: { mc_progress: 5 }, assignedAgentId: null });
    expect(calls[0]?.body).toEqual({ title: 'New', status: 'in_progress', assigned_agent_id: null, custom_field_values: { mc_progress: 5 } });
    expect(task).toMatchObject({ id: 't9', title: 'New', status: 'in_progress', fields: { mc_progress: 5 } });
    expect(mc.stats).toMatchObject({ requests: 1, writes: 1 });
  });

  it('updateTask sends only the given keys and is never retried', async () => {
    route('PATCH', '/boards/b1/tasks/t1', () => ({ status: 503, body: { detail: 'Service Unavailable' } }));
    const mc = client();
    const err = (await mc.updateTask('b1', 't1', { status: 'review', comment: 'why' }).catch((e: unknown) => e)) as MissionControlError;
    expect(err.kind).toBe('server');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.body).toEqual({ status: 'review', comment: 'why' });
    expect(mc.stats).toMatchObject({ requests: 1, writes: 1, retries: 0 });
  });

  it('maps the done-gate 409', async () => {
    route('PATCH', '/boards/b1/tasks/t1', () => ({
      status: 409,
      body: {
        detail: { message: 'Task can only be marked done when a linked approval has been approved.', blocked_by_task_ids: [] },
        request_id: 'body-rid',
      },
    }));
    const err = (await client().updateTask('b1', 't1', { status: 'done' }).catch((e: unknown) => e)) as MissionControlError;
    expect(err.isDoneGate()).toBe(true);
    expect(err.requestId).toBe('body-rid');
    expect(err.method).toBe('PATCH');
    expect(err.path).toBe('/boards/b1/tasks/t1');
  });

  it('maps a 422 with a readable summary', async () => {
    route('PATCH', '/boards/b1/tasks/t1', () => ({
      status: 422,
      body: { detail: { message: 'Unknown custom field keys for this board.', unknown_field_keys: ['mc_loop_id'] } },
    }));
    const err = (await client().updateTask('b1', 't1', { customFieldValues: { mc_loop_id: 'x' } }).catch((e: unknown) => e)) as MissionControlError;
    expect(err.kind).toBe('validation');
    expect(err.message).toContain('Unknown custom field keys for this board. (unknown_field_keys: mc_loop_id)');
    expect(err.requestId).toBe('hdr-rid');
  });

  it('maps 401 to a clear message without the token', async () => {
    route('GET', '/boards/b1', () => ({ status: 401, body: { detail: 'Unauthorized' } }));
    const err = (await client().getBoard('b1').catch((e: unknown) => e)) as MissionControlError;
    expect(err.kind).toBe('unauthorized');
    expect(err.message).toMatch(/rejected the auth token.*MC_AUTH_TOKEN/);
    expect(JSON.stringify({ ...err, m: err.message, s: err.stack })).not.toContain(TOKEN);
  });

  it.each([
    [404, 'not_found'],
    [405, 'method_not_allowed'],
    [429, 'rate_limited'],
    [500, 'server'],
  ] as const)('maps %i to %s', async (status, kind) => {
    route('POST', '/boards/b1/tasks/t1/comments', () => ({ status, body: { detail: 'x' } }));
    const err = (await client().createComment('b1', 't1', 'hi').catch((e: unknown) => e)) as MissionControlError;
    expect(err.kind).toBe(kind);
    expect(err.status).toBe(status);
  });

  it('comments: list oldest first with the task id filled in, create', async () => {
    route('GET', '/boards/b1/tasks/t1/comments', paged([
      { id: 'c1', message: 'first', agent_id: null, task_id: null, created_at: '2026-03-01T10:00:00' },
      { id: 'c2', message: 'second', agent_id: 'a1', task_id: 't1', created_at: '2026-03-01T11:00:00' },
    ]));
    route('POST', '/boards/b1/tasks/t1/comments', (_q, body) => ({
      status: 200,
      body: { id: 'c3', message: (body as { message: string }).message, agent_id: null, task_id: 't1', created_at: '2026-03-01T12:00:00' },
    }));
    const mc = client();
    const listed = await mc.listComments('b1', 't1');
    expect(listed.items.map((c) => [c.id, c.taskId])).toEqual([
      ['c1', 't1'],
      ['c2', 't1'],
    ]);
    const created = await mc.createComment('b1', 't1', 'third');
    expect(created).toEqual({ id: 'c3', taskId: 't1', message: 'third', agentId: null, createdAt: Date.UTC(2026, 2, 1, 12) });
  });

  it('custom fields: bare-array list skips a bad definition, create and patch map keys', async () => {
    const def = {
      id: 'f1',
      field_key: 'mc_progress',
      label: 'mc_progress',
      field_type: 'integer',
      ui_visibility: 'if_set',
      required: false,
      default_value: 0,
      description: null,
      board_ids: ['b1'],
    };
    route('GET', '/organizations/me/custom-fields', () => ({ status: 200, body: [def, { ...def, id: 'f2', field_type: 'colour' }] }));
    route('POST', '/organizations/me/custom-fields', (_q, body) => ({ status: 200, body: { ...def, ...(body as object) } }));
    route('PATCH', '/organizations/me/custom-fields/f1', (_q, body) => ({ status: 200, body: { ...def, ...(body as object) } }));
    const mc = client();
    expect((await mc.listFieldDefinitions()).map((f) => f.id)).toEqual(['f1']);
    const created = await mc.createFieldDefinition({ fieldKey: 'mc_delivered', fieldType: 'boolean', uiVisibility: 'if_set', defaultValue: false, boardIds: ['b1'] });
    expect(calls[1]?.body).toEqual({ field_key: 'mc_delivered', field_type: 'boolean', ui_visibility: 'if_set', default_value: false, board_ids: ['b1'] });
    expect(created).toMatchObject({ fieldKey: 'mc_delivered', fieldType: 'boolean', defaultValue: false });
    const patched = await mc.updateFieldDefinition('f1', { boardIds: ['b1', 'b2'] });
    expect(calls[2]?.body).toEqual({ board_ids: ['b1', 'b2'] });
    expect(patched.boardIds).toEqual(['b1', 'b2']);
  });

  it('approvals: list with status filter, create with lead reasoning, resolve', async () => {
    const row = {
      id: 'ap1',
      board_id: 'b1',
      action_type: 'manual_override',
      task_id: 't1',
      task_ids: ['t1'],
      task_titles: ['Task 1'],
      payload: { reason: 'ship it' },
      confidence: 90,
      status: 'pending',
      agent_id: null,
      created_at: '2026-03-01T10:00:00',
      resolved_at: null,
    };
    route('GET', '/boards/b1/approvals', paged([row]));
    route('POST', '/boards/b1/approvals', () => ({ status: 200, body: row }));
    route('PATCH', '/boards/b1/approvals/ap1', (_q, body) => ({
      status: 200,
      body: { ...row, ...(body as object), resolved_at: '2026-03-01T10:10:00' },
    }));
    const mc = client();
    const listed = await mc.listApprovals('b1', { status: 'pending' });
    expect(calls[0]?.query.get('status')).toBe('pending');
    expect(listed.items[0]).toMatchObject({ id: 'ap1', taskIds: ['t1'], payload: { reason: 'ship it' } });
    await mc.createApproval('b1', { actionType: 'manual_override', confidence: 90, taskId: 't1', leadReasoning: 'ship it' });
    expect(calls[1]?.body).toEqual({ action_type: 'manual_override', confidence: 90, task_id: 't1', lead_reasoning: 'ship it' });
    const resolved = await mc.updateApproval('b1', 'ap1', 'approved');
    expect(resolved).toMatchObject({ status: 'approved', resolvedAt: Date.UTC(2026, 2, 1, 10, 10) });
    expect(mc.stats).toMatchObject({ requests: 3, writes: 2 });
  });

  // Issue 12 item 2: a board's resolved approvals only grow; a waiting task needs none older than itself.
  it('approvals: createdSince stops paging once a page reaches past it (newest first upstream)', async () => {
    const at = (i: number) => new Date(Date.UTC(2026, 2, 10) - i * 60_000).toISOString().replace('Z', '');
    const rows = Array.from({ length: 600 }, (_, i) => ({
      id: `ap${i}`, board_id: 'b1', action_type: 'x', task_id: 't1', task_ids: ['t1'], task_titles: [], payload: { reason: 'r' },
      confidence: 50, status: 'approved', agent_id: null, created_at: at(i), resolved_at: at(i),
    }));
    route('GET', '/boards/b1/approvals', paged(rows));
    const since = Date.UTC(2026, 2, 10) - 250 * 60_000;
    const listed = await client().listApprovals('b1', { status: 'approved', createdSince: since });
    expect(listed.requests).toBe(2);
    expect(listed.items.filter((a) => a.createdAt >= since)).toHaveLength(251);
    expect((await client().listApprovals('b1', { status: 'approved' })).requests).toBe(3);
  });

  it('boards: get and list', async () => {
    const board = { id: 'b1', name: 'Main', gateway_id: null, require_approval_for_done: false, updated_at: '2026-03-01T00:00:00' };
    route('GET', '/boards/b1', () => ({ status: 200, body: board }));
    route('GET', '/boards', paged([board, { id: 'b2' }]));
    const mc = client();
    expect(await mc.getBoard('b1')).toMatchObject({ id: 'b1', requireApprovalForDone: false, gatewayId: null });
    expect((await mc.listBoards()).map((b) => b.id)).toEqual(['b1']);
  });

  it('never calls the single-task GET', async () => {
    route('GET', '/boards/b1/tasks', paged([taskRow(1)]));
    const mc = client();
    await mc.listTasks('b1');
    expect(calls.every((c) => !/\/tasks\/[^/]+$/.test(c.path) || c.method !== 'GET')).toBe(true);
  });
});
