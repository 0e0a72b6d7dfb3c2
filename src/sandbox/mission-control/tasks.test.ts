import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../index.js';
import { control, mcClient } from '../testing/client.js';

let sandbox: SandboxHandle;
let mc: ReturnType<typeof mcClient>;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
  mc = mcClient(sandbox.info);
});
afterAll(() => sandbox.close());

async function field(key: string, type: string, extra: Record<string, unknown> = {}) {
  const res = await mc.post('/organizations/me/custom-fields', { field_key: key, field_type: type, board_ids: [sandbox.info.boardId], ...extra });
  expect(res.status).toBe(200);
  return res.body;
}

describe('auth and routing', () => {
  it('rejects a wrong or missing bearer with 401 and a request id', async () => {
    const wrong = await mcClient(sandbox.info, 'x'.repeat(64)).get(mc.board);
    expect(wrong.status).toBe(401);
    expect(wrong.body.detail).toBe('Unauthorized');
    expect(wrong.body.request_id).toMatch(/^[0-9a-f]{32}$/);
    const none = await fetch(`${sandbox.info.mcApiUrl}${mc.board}`);
    expect(none.status).toBe(401);
  });

  it('accepts the scheme in any case and echoes X-Request-Id', async () => {
    const res = await mc.call('GET', mc.board, undefined, { authorization: `bEaReR ${sandbox.info.mcAuthToken}`, 'x-request-id': 'abc-123' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('abc-123');
  });

  it('answers health at the root without auth', async () => {
    for (const path of ['/health', '/healthz', '/readyz']) {
      const res = await fetch(new URL(path, sandbox.info.mcApiUrl));
      expect(await res.json()).toEqual({ ok: true });
    }
  });

  it('serves the local identity (org "Personal")', async () => {
    expect((await mc.get('/organizations/me')).body.name).toBe('Personal');
    expect((await mc.get('/users/me')).body.clerk_user_id).toBe('local-auth-user');
  });

  it('has no single-task GET (405) and 404s unknown routes', async () => {
    const task = (await mc.createTask({ title: 'probe' })).body;
    const single = await mc.get(`${mc.board}/tasks/${task.id}`);
    expect(single.status).toBe(405);
    expect(single.body.detail).toBe('Method Not Allowed');
    const unknown = await mc.get('/tasks/whatever');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ detail: 'Not Found' });
  });
});

describe('listing', () => {
  it('caps limit at 200 with a list-shaped 422 and validates the status filter', async () => {
    const big = await mc.get(`${mc.board}/tasks?limit=201`);
    expect(big.status).toBe(422);
    expect(big.body.detail[0]).toMatchObject({ loc: ['query', 'limit'] });
    const bad = await mc.get(`${mc.board}/tasks?status=blocked`);
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toBe('Unsupported task status filter.');
    const ok = await mc.get(`${mc.board}/tasks?status=inbox,review`);
    expect(ok.status).toBe(200);
    expect(ok.body.limit).toBe(200);
  });

  it('pages through 450 tasks newest first with correct totals', async () => {
    const fresh = await startSandbox({ seed: 'empty' });
    try {
      const c = mcClient(fresh.info);
      for (let i = 0; i < 450; i++) await c.createTask({ title: `t${i}` });
      const first = await c.get(`${c.board}/tasks?limit=200`);
      expect(first.body.total).toBe(450);
      expect(first.body.items).toHaveLength(200);
      expect(first.body.items[0].title).toBe('t449');
      const all = await c.allTasks();
      expect(all).toHaveLength(450);
      expect(new Set(all.map((t) => t.id)).size).toBe(450);
      const last = await c.get(`${c.board}/tasks?limit=200&offset=400`);
      expect(last.body.items).toHaveLength(50);
      expect(last.body.items.at(-1).title).toBe('t0');
    } finally {
      await fresh.close();
    }
  });
});

describe('tasks', () => {
  it('creates with 200 and naive-UTC timestamps; rejects non-upstream statuses and explicit null status', async () => {
    const created = await mc.createTask({ title: 'wire', status: 'inbox' });
    expect(created.status).toBe(200);
    expect(created.body.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(created.body.custom_field_values).toBeTypeOf('object');
    const stalled = await mc.createTask({ title: 'x', status: 'stalled' });
    expect(stalled.status).toBe(422);
    expect(Array.isArray(stalled.body.detail)).toBe(true);
    const nulled = await mc.patchTask(created.body.id, { status: null });
    expect(nulled.status).toBe(422);
    expect(JSON.stringify(nulled.body.detail)).toContain('status is required');
    const failed = await mc.patchTask(created.body.id, { status: 'failed' });
    expect(failed.status).toBe(422);
  });

  it('manages in_progress_at and clears the assignee on inbox/review; bumps updated_at on every PATCH', async () => {
    const agent = (await mc.get('/agents')).body.items[0].id as string;
    const t = (await mc.createTask({ title: 'lifecycle', assigned_agent_id: agent })).body;
    expect(t.in_progress_at).toBeNull();
    const started = (await mc.patchTask(t.id, { status: 'in_progress' })).body;
    expect(started.in_progress_at).not.toBeNull();
    expect(started.assigned_agent_id).toBe(agent);
    expect(started.updated_at > t.updated_at).toBe(true);
    const reviewed = (await mc.patchTask(t.id, { status: 'review' })).body;
    expect(reviewed.in_progress_at).toBeNull();
    expect(reviewed.assigned_agent_id).toBeNull();
    const titled = (await mc.patchTask(t.id, { title: 'renamed' })).body;
    expect(titled.updated_at > reviewed.updated_at).toBe(true);
    await mc.post(`${mc.board}/tasks/${t.id}/comments`, { message: 'a comment' });
    const [after] = (await mc.allTasks()).filter((x) => x.id === t.id);
    expect(after.updated_at).toBe(titled.updated_at);
  });

  it('records PATCH comments and lists comments oldest first; blank messages are rejected', async () => {
    const t = (await mc.createTask({ title: 'comments' })).body;
    await mc.post(`${mc.board}/tasks/${t.id}/comments`, { message: 'first' });
    await mc.patchTask(t.id, { comment: 'second via patch' });
    await mc.patchTask(t.id, { comment: '   ' });
    const blank = await mc.post(`${mc.board}/tasks/${t.id}/comments`, { message: '  ' });
    expect(blank.status).toBe(422);
    const list = await mc.get(`${mc.board}/tasks/${t.id}/comments`);
    expect(list.body.items.map((c: any) => c.message)).toEqual(['first', 'second via patch']);
    expect(list.body.items[0].agent_id).toBeNull();
  });

  it('deletes a task with {ok:true}', async () => {
    const t = (await mc.createTask({ title: 'doomed' })).body;
    expect((await mc.del(`${mc.board}/tasks/${t.id}`)).body).toEqual({ ok: true });
    expect((await mc.allTasks()).some((x) => x.id === t.id)).toBe(false);
    expect((await mc.patchTask(t.id, { title: 'x' })).status).toBe(404);
  });
});

describe('custom fields', () => {
  it('validates values per type, rejects unknown keys, merges on PATCH and shows defaults on read', async () => {
    await field('cf_int', 'integer', { default_value: 7 });
    await field('cf_dec', 'decimal');
    await field('cf_bool', 'boolean', { default_value: false });
    await field('cf_text', 'text');
    await field('cf_date', 'date');
    await field('cf_dt', 'date_time');
    await field('cf_url', 'url');
    await field('cf_json', 'json');
    const t = (await mc.createTask({ title: 'values' })).body;
    expect(t.custom_field_values).toMatchObject({ cf_int: 7, cf_bool: false, cf_text: null });

    const bad: Array<[string, unknown]> = [
      ['cf_int', true],
      ['cf_int', 'x'],
      ['cf_dec', 'x'],
      ['cf_bool', 1],
      ['cf_text', 3],
      ['cf_date', '2026-13-01'],
      ['cf_dt', 'yesterday'],
      ['cf_url', 'ftp://example.com'],
      ['cf_json', 'string'],
    ];
    for (const [key, value] of bad) {
      const res = await mc.patchTask(t.id, { custom_field_values: { [key]: value } });
      expect(res.status, `${key}=${JSON.stringify(value)}`).toBe(422);
      expect(res.body.detail).toMatchObject({ message: 'Invalid custom field value.', field_key: key });
    }
    // 1.0 must be rejected for integers even though JSON.parse cannot tell it from 1.
    const float = await mc.patchTask(t.id, `{"custom_field_values":{"cf_int":1.0}}`);
    expect(float.status).toBe(422);
    expect(float.body.detail.field_type).toBe('integer');

    const unknown = await mc.patchTask(t.id, { custom_field_values: { mc_loop_id: 'x', cf_int: 1 } });
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail).toEqual({ message: 'Unknown custom field keys for this board.', unknown_field_keys: ['mc_loop_id'] });

    await mc.patchTask(t.id, { custom_field_values: { cf_text: 'a', cf_int: 3, cf_dt: '2026-03-01T10:00:00Z', cf_json: [1] } });
    const merged = (await mc.patchTask(t.id, { custom_field_values: { cf_int: 4 } })).body;
    expect(merged.custom_field_values).toMatchObject({ cf_text: 'a', cf_int: 4, cf_json: [1] });
    const deleted = (await mc.patchTask(t.id, { custom_field_values: { cf_text: null, cf_int: null } })).body;
    expect(deleted.custom_field_values).toMatchObject({ cf_text: null, cf_int: 7 });
  });

  it('enforces required fields after merge', async () => {
    const fresh = await startSandbox({ seed: 'empty' });
    try {
      const c = mcClient(fresh.info);
      await c.post('/organizations/me/custom-fields', { field_key: 'owner', field_type: 'text', required: true, board_ids: [fresh.info.boardId] });
      const missing = await c.createTask({ title: 'x' });
      expect(missing.status).toBe(422);
      expect(missing.body.detail).toEqual({ message: 'Required custom fields must have values.', missing_field_keys: ['owner'] });
      const t = (await c.createTask({ title: 'x', custom_field_values: { owner: 'me' } })).body;
      expect((await c.patchTask(t.id, { custom_field_values: { owner: null } })).status).toBe(422);
    } finally {
      await fresh.close();
    }
  });

  it('lists definitions as a bare array sorted by label; 500 on a duplicate key (as recorded upstream); PATCH replaces bindings and forbids field_key', async () => {
    const fresh = await startSandbox({ seed: 'empty' });
    try {
      const c = mcClient(fresh.info);
      const b = [fresh.info.boardId];
      await c.post('/organizations/me/custom-fields', { field_key: 'zeta', label: 'beta', board_ids: b });
      const alpha = (await c.post('/organizations/me/custom-fields', { field_key: 'Alpha', field_type: 'integer', board_ids: b })).body;
      expect((await c.post('/organizations/me/custom-fields', { field_key: 'zeta', board_ids: b })).status).toBe(500);
      expect((await c.post('/organizations/me/custom-fields', { field_key: 'nob', board_ids: [] })).status).toBe(422);
      const listed = await c.get('/organizations/me/custom-fields');
      expect(Array.isArray(listed.body)).toBe(true);
      expect(listed.body.map((f: any) => f.label)).toEqual(['Alpha', 'beta']);
      const renamed = await c.patch(`/organizations/me/custom-fields/${alpha.id}`, { field_key: 'other' });
      expect(renamed.status).toBe(422);
      expect((await c.patch(`/organizations/me/custom-fields/${alpha.id}`, { board_ids: [] })).status).toBe(422);
      const relabelled = await c.patch(`/organizations/me/custom-fields/${alpha.id}`, { label: 'A1', default_value: 3 });
      expect(relabelled.body).toMatchObject({ label: 'A1', default_value: 3, field_key: 'Alpha' });
      expect((await c.patch(`/organizations/me/custom-fields/${alpha.id}`, { default_value: 'x' })).status).toBe(422);
      expect((await c.del(`/organizations/me/custom-fields/${alpha.id}`)).body).toEqual({ ok: true });
    } finally {
      await fresh.close();
    }
  });
});

describe('board rules and approvals', () => {
  it('gates done behind an approved approval, and lets it pass afterwards', async () => {
    const t = (await mc.createTask({ title: 'gated' })).body;
    const blocked = await mc.patchTask(t.id, { status: 'done' });
    expect(blocked.status).toBe(409);
    expect(blocked.body.detail).toEqual({ message: 'Task can only be marked done when a linked approval has been approved.', blocked_by_task_ids: [] });
    const approval = await mc.post(`${mc.board}/approvals`, { action_type: 'manual_override', confidence: 80, task_id: t.id, lead_reasoning: 'ship it' });
    expect(approval.status).toBe(200);
    expect(approval.body.payload.reason).toBe('ship it');
    expect(approval.body).not.toHaveProperty('lead_reasoning');
    expect(approval.body.task_titles).toEqual(['gated']);
    const approved = await mc.patch(`${mc.board}/approvals/${approval.body.id}`, { status: 'approved' });
    expect(approved.body.resolved_at).toMatch(/^\d{4}-/);
    const done = await mc.patchTask(t.id, { status: 'done' });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('done');
    // creating directly as done is not gated
    expect((await mc.createTask({ title: 'born done', status: 'done' })).status).toBe(200);
  });

  it('lets the gate be switched off through PATCH /boards', async () => {
    const fresh = await startSandbox({ seed: 'empty' });
    try {
      const c = mcClient(fresh.info);
      const board = await c.patch(c.board, { require_approval_for_done: false });
      expect(board.body.require_approval_for_done).toBe(false);
      const t = (await c.createTask({ title: 'free' })).body;
      expect((await c.patchTask(t.id, { status: 'done' })).status).toBe(200);
      await c.patch(c.board, { require_review_before_done: true, block_status_changes_with_pending_approval: true });
      const u = (await c.createTask({ title: 'review first' })).body;
      const early = await c.patchTask(u.id, { status: 'done' });
      expect(early.status).toBe(409);
      expect(early.body.detail.message).toMatch(/from review/);
      await c.post(`${c.board}/approvals`, { action_type: 'x', confidence: 50, task_id: u.id, payload: { reason: 'why' } });
      const frozen = await c.patchTask(u.id, { status: 'review' });
      expect(frozen.status).toBe(409);
      expect(frozen.body.detail.message).toBe('Task status cannot be changed while a linked approval is pending.');
    } finally {
      await fresh.close();
    }
  });

  it('allows one pending approval per task, requires a reason, validates confidence and task ids', async () => {
    const t = (await mc.createTask({ title: 'approvals' })).body;
    const base = { action_type: 'manual_override', confidence: 80, task_id: t.id };
    const noReason = await mc.post(`${mc.board}/approvals`, base);
    expect(noReason.status).toBe(422);
    expect(JSON.stringify(noReason.body.detail)).toContain('lead reasoning is required');
    const first = await mc.post(`${mc.board}/approvals`, { ...base, payload: { decision: { reason: 'nested' } } });
    expect(first.status).toBe(200);
    expect(first.body.payload.reason).toBe('nested');
    const second = await mc.post(`${mc.board}/approvals`, { ...base, payload: { reason: 'again' } });
    expect(second.status).toBe(409);
    expect(second.body.detail).toEqual({
      message: 'Each task can have only one pending approval.',
      conflicts: [{ task_id: t.id, approval_id: first.body.id }],
    });
    expect((await mc.post(`${mc.board}/approvals`, { ...base, confidence: 101, payload: { reason: 'r' } })).status).toBe(422);
    const ghost = await mc.post(`${mc.board}/approvals`, { ...base, task_id: '00000000-0000-4000-8000-000000000000', payload: { reason: 'r' } });
    expect(ghost.status).toBe(500);
    const pending = await mc.get(`${mc.board}/approvals?status=pending`);
    expect(pending.body.items.some((a: any) => a.id === first.body.id)).toBe(true);
    expect((await mc.get(`${mc.board}/approvals?status=waiting`)).status).toBe(422);
    expect((await mc.patch(`${mc.board}/approvals/${first.body.id}`, { status: null })).status).toBe(422);
  });
});

describe('demo seed', () => {
  it('has the kit fields (without mc_conditions) and tasks a newcomer can watch', async () => {
    const demo = await startSandbox({ seed: 'demo' });
    try {
      const c = mcClient(demo.info);
      const fields = (await c.get('/organizations/me/custom-fields')).body as any[];
      expect(fields).toHaveLength(14);
      expect(fields.every((f) => f.ui_visibility === 'if_set' && !f.required && f.board_ids.includes(demo.info.boardId))).toBe(true);
      expect(fields.some((f) => f.field_key === 'mc_conditions')).toBe(false);
      const tasks = await c.allTasks();
      expect(tasks.length).toBeGreaterThanOrEqual(8);
      const hourAgo = Date.now() - 50 * 60_000;
      const orphan = tasks.find((t) => t.status === 'in_progress' && !t.custom_field_values.mc_session_key);
      expect(Date.parse(`${orphan.in_progress_at}Z`)).toBeLessThan(hourAgo);
      expect(tasks.some((t) => t.status === 'in_progress' && t.custom_field_values.mc_session_key)).toBe(true);
      expect(tasks.some((t) => t.status === 'done' && !t.custom_field_values.mc_delivered && t.custom_field_values.mc_output_summary)).toBe(true);
      const pending = (await c.get(`${c.board}/approvals?status=pending`)).body.items;
      expect(pending[0].payload.reason).toBeTruthy();
      const board = (await c.get(c.board)).body;
      expect(board).toMatchObject({ name: 'Demo board', require_approval_for_done: true });
      expect(board.gateway_id).toBeTruthy();
      expect((await control(demo.info, 'GET', '/stats')).body.mc.writes).toBe(0);
    } finally {
      await demo.close();
    }
  });
});
