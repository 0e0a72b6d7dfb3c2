import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../index.js';
import { control, mcClient, readSse, withSandbox } from '../testing/client.js';

/**
 * Behaviours the sandbox takes from the recorded upstream backend (shared/conformance), where it
 * used to be friendlier than upstream. The replay of every recorded exchange is test/conformance.
 */

let sandbox: SandboxHandle;
let mc: ReturnType<typeof mcClient>;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
  mc = mcClient(sandbox.info);
});
afterAll(() => sandbox.close());

const field = (key: string, type: string) =>
  mc.post('/organizations/me/custom-fields', { field_key: key, field_type: type, board_ids: [sandbox.info.boardId] });

describe('bare 500s where upstream has no check', () => {
  it('answers an unknown assignee on create with 500 and on PATCH with 404', async () => {
    const ghost = '00000000-0000-0000-0000-0000000000aa';
    const created = await mc.createTask({ title: 'ghost assignee', assigned_agent_id: ghost });
    expect(created.status).toBe(500);
    expect(created.body.detail).toBe('Internal Server Error');
    expect((await mc.allTasks()).some((t) => t.title === 'ghost assignee')).toBe(false);
    const task = (await mc.createTask({ title: 'real task' })).body;
    expect((await mc.patchTask(task.id, { assigned_agent_id: ghost })).status).toBe(404);
  });

  it('answers a non-UUID path id and `title: null` with 500', async () => {
    expect((await mc.get('/boards/not-a-uuid/tasks')).status).toBe(500);
    const task = (await mc.createTask({ title: 'keeps its title' })).body;
    const nulled = await mc.patchTask(task.id, { title: null });
    expect(nulled.status).toBe(500);
    expect((await mc.allTasks()).find((t) => t.id === task.id)?.title).toBe('keeps its title');
  });

  it('answers a duplicate field key with 500 and keeps one definition', async () => {
    expect((await field('dup_probe', 'text')).status).toBe(200);
    expect((await field('dup_probe', 'text')).status).toBe(500);
    const defs = (await mc.get('/organizations/me/custom-fields')).body as Array<{ field_key: string }>;
    expect(defs.filter((d) => d.field_key === 'dup_probe')).toHaveLength(1);
  });
});

describe('status side effects', () => {
  it('hands a task entering review to the board lead, and clears the assignee on inbox', async () => {
    await withSandbox(async (fresh, c) => {
      const lead = (await control(fresh.info, 'POST', '/mc/agents', { board_id: fresh.info.boardId, name: 'Lead', is_board_lead: true })).body;
      const listed = (await c.get(`/agents?board_id=${fresh.info.boardId}`)).body;
      expect(listed.items.map((a: any) => a.id)).toEqual([lead.id]);
      const t = (await c.createTask({ title: 'to review' })).body;
      await c.patchTask(t.id, { status: 'in_progress' });
      const reviewed = (await c.patchTask(t.id, { status: 'review' })).body;
      expect(reviewed).toMatchObject({ status: 'review', assigned_agent_id: lead.id, in_progress_at: null });
      const back = (await c.patchTask(t.id, { status: 'inbox' })).body;
      expect(back).toMatchObject({ status: 'inbox', assigned_agent_id: null, in_progress_at: null });
    });
  });

  it('sends unfinished dependents back to inbox when a task leaves done', async () => {
    await withSandbox(async (fresh, c) => {
      await c.patch(`/boards/${fresh.info.boardId}`, { require_approval_for_done: false });
      const parent = (await c.createTask({ title: 'parent' })).body;
      const child = (await c.createTask({ title: 'child', depends_on_task_ids: [parent.id] })).body;
      const finished = (await c.createTask({ title: 'finished child', depends_on_task_ids: [parent.id] })).body;
      await c.patchTask(parent.id, { status: 'done' });
      await c.patchTask(child.id, { status: 'in_progress' });
      await c.patchTask(finished.id, { status: 'done' });
      expect((await c.patchTask(parent.id, { status: 'in_progress' })).status).toBe(200);
      const byId = new Map((await c.allTasks()).map((t) => [t.id, t]));
      expect(byId.get(child.id)).toMatchObject({ status: 'inbox', in_progress_at: null, is_blocked: true });
      expect(byId.get(finished.id)?.status).toBe('done');
    });
  });
});

describe('wire format', () => {
  it('keeps integers beyond 2^53 exactly; the approval stream writes confidence as a float, REST as recorded', async () => {
    await field('big_probe', 'integer');
    const task = (await mc.createTask({ title: 'big' })).body;
    const res = await fetch(`${sandbox.info.mcApiUrl}${mc.board}/tasks/${task.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${sandbox.info.mcAuthToken}`, 'content-type': 'application/json' },
      body: '{"custom_field_values": {"big_probe": 12345678901234567891}}',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('"big_probe":12345678901234567891');
    const stream = await fetch(`${sandbox.info.mcApiUrl}${mc.board}/approvals/stream?since=2000-01-01T00:00:00`, {
      headers: { authorization: `Bearer ${sandbox.info.mcAuthToken}` },
    });
    const approval = await fetch(`${sandbox.info.mcApiUrl}${mc.board}/approvals`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.info.mcAuthToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action_type: 'x', confidence: 50, task_id: task.id, payload: { reason: 'r' } }),
    });
    expect(await approval.text()).toContain('"confidence":50,');
    const reader = (stream.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    while (!seen.includes('\r\n\r\n')) seen += (await reader.read()).value ?? '';
    await reader.cancel();
    // upstream's frame: CRLF line ends, Python separators, `50.0`
    expect(seen).toMatch(/^event: approval\r\ndata: \{"approval": \{.*"confidence": 50\.0, .*\}\r\n\r\n/);
  });

  it('gives pydantic-shaped 422 items and upstream reason texts', async () => {
    const t = (await mc.createTask({ title: 'values' })).body;
    await field('int_probe', 'integer');
    const bad = await mc.patchTask(t.id, { custom_field_values: { int_probe: 'x' } });
    expect(bad.body.detail).toEqual({ message: 'Invalid custom field value.', field_key: 'int_probe', field_type: 'integer', reason: 'must be an integer' });
    const over = await mc.post(`${mc.board}/approvals`, { action_type: 'x', confidence: 101, task_id: t.id, payload: { reason: 'r' } });
    expect(over.body.detail).toEqual([
      { type: 'less_than_equal', loc: ['body', 'confidence'], msg: 'Input should be less than or equal to 100', input: 101, ctx: { le: 100 } },
    ]);
    const blank = await mc.post(`${mc.board}/tasks/${t.id}/comments`, { message: '   ' });
    expect(blank.body.detail[0]).toMatchObject({ type: 'string_too_short', loc: ['body', 'message'], ctx: { min_length: 1 } });
  });
});

describe('agent-auth limiter', () => {
  it('answers 429 after 20 wrong bearers a minute on routes open to agents, not on user-only routes', async () => {
    await withSandbox(async (fresh) => {
      const wrong = mcClient(fresh.info, 'w'.repeat(64));
      const statuses: number[] = [];
      for (let i = 0; i < 21; i++) statuses.push((await wrong.get(`/boards/${fresh.info.boardId}/tasks`)).status);
      expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
      expect(statuses[20]).toBe(429);
      expect((await wrong.get('/organizations/me/custom-fields')).status).toBe(401);
      expect((await mcClient(fresh.info).get(`/boards/${fresh.info.boardId}/tasks`)).status).toBe(200);
    });
  });
});

describe('stream timing modes', () => {
  async function firstEventWithin(mode: 'upstream' | 'instant', windowMs: number): Promise<number> {
    // A poll period far beyond the window: only a push on change can deliver in time.
    const fresh = await startSandbox({ seed: 'empty', streams: { mode, pollMs: 60_000 } });
    try {
      const c = mcClient(fresh.info);
      const events = await readSse(`${fresh.info.mcApiUrl}${c.board}/tasks/stream`, fresh.info.mcAuthToken, (ev) => ev.length > 0, windowMs, async () => {
        await c.createTask({ title: 'pushed?' });
      });
      return events.length;
    } finally {
      await fresh.close();
    }
  }

  it('upstream mode (the default) waits for the poll; instant mode pushes on change', async () => {
    expect(await firstEventWithin('upstream', 1_500)).toBe(0);
    expect(await firstEventWithin('instant', 5_000)).toBe(1);
  });
});
