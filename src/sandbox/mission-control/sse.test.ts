import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../index.js';
import { mcClient, readSse } from '../testing/client.js';

let sandbox: SandboxHandle;
let mc: ReturnType<typeof mcClient>;

beforeAll(async () => {
  // A short poll keeps the tests fast (upstream timing otherwise: poll only, every 2 s).
  sandbox = await startSandbox({ seed: 'empty', streams: { pollMs: 200 } });
  mc = mcClient(sandbox.info);
});
afterAll(() => sandbox.close());

describe('task stream', () => {
  it('delivers creates, updates and comments once each, with the current task', async () => {
    const url = `${sandbox.info.mcApiUrl}${mc.board}/tasks/stream`;
    let id = '';
    const events = await readSse(
      url,
      sandbox.info.mcAuthToken,
      (ev) => ev.filter((e) => e.data.type === 'task.status_changed').length >= 1 && ev.some((e) => e.data.type === 'task.comment'),
      8000,
      async () => {
        id = (await mc.createTask({ title: 'streamed' })).body.id;
        await mc.patchTask(id, { status: 'in_progress', comment: 'working on it' });
      },
    );
    expect(events.every((e) => e.event === 'task')).toBe(true);
    const types = events.map((e) => e.data.type);
    expect(types).toEqual(['task.created', 'task.comment', 'task.status_changed']);
    const created = events[0]?.data;
    expect(created.task.id).toBe(id);
    expect(created.activity).toMatchObject({ event_type: 'task.created', task_id: id });
    expect(events[1]?.data.comment).toMatchObject({ message: 'working on it', task_id: id });
    expect(events[2]?.data.task.status).toBe('in_progress');
    expect(new Set(events.map((e) => e.data.activity.id)).size).toBe(events.length);
  });

  it('replays from `since` (naive or Z)', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const t = (await mc.createTask({ title: 'replayed' })).body;
    for (const since of [before, before.replace('Z', '')]) {
      const url = `${sandbox.info.mcApiUrl}${mc.board}/tasks/stream?since=${encodeURIComponent(since)}`;
      const events = await readSse(url, sandbox.info.mcAuthToken, (ev) => ev.some((e) => e.data.task?.id === t.id), 5000);
      expect(events.some((e) => e.data.task?.id === t.id)).toBe(true);
    }
  });

  it('emits task.updated for a custom-field-only PATCH', async () => {
    await mc.post('/organizations/me/custom-fields', { field_key: 'sse_note', board_ids: [sandbox.info.boardId] });
    const t = (await mc.createTask({ title: 'fields' })).body;
    const events = await readSse(
      `${sandbox.info.mcApiUrl}${mc.board}/tasks/stream`,
      sandbox.info.mcAuthToken,
      (ev) => ev.some((e) => e.data.type === 'task.updated'),
      5000,
      async () => {
        await mc.patchTask(t.id, { custom_field_values: { sse_note: 'hi' } });
      },
    );
    const updated = events.find((e) => e.data.type === 'task.updated');
    expect(updated?.data.task.custom_field_values.sse_note).toBe('hi');
  });
});

describe('approval stream', () => {
  it('delivers new and resolved approvals and keeps re-sending the newest (no dedupe, like upstream)', async () => {
    const t = (await mc.createTask({ title: 'needs a human' })).body;
    let approvalId = '';
    const events = await readSse(
      `${sandbox.info.mcApiUrl}${mc.board}/approvals/stream`,
      sandbox.info.mcAuthToken,
      (ev) => ev.filter((e) => e.data.approval.status === 'approved').length >= 3,
      8000,
      async () => {
        approvalId = (await mc.post(`${mc.board}/approvals`, { action_type: 'manual_override', confidence: 70, task_id: t.id, payload: { reason: 'r' } })).body.id;
        await mc.patch(`${mc.board}/approvals/${approvalId}`, { status: 'approved' });
      },
    );
    expect(events.every((e) => e.event === 'approval' && e.data.approval.id === approvalId)).toBe(true);
    const approved = events.filter((e) => e.data.approval.status === 'approved');
    expect(approved.length).toBeGreaterThanOrEqual(3);
    expect(approved[0]?.data.pending_approvals_count).toBe(0);
    expect(approved[0]?.data.approval.resolved_at).toBeTruthy();
    expect(approved[0]?.data.task_counts).toMatchObject({ task_id: t.id, approvals_count: 1, approvals_pending_count: 0 });
  });
});
