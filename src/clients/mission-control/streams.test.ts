import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApprovalStreamEvent, StreamHandle, TaskStreamEvent } from './api.js';
import { MissionControlClient } from './client.js';
import { RecentKeys } from './streams.js';

/** A local server speaking Mission Control's SSE framing: each connection gets a scripted list of events. */
let server: Server | undefined;
let dispatcher: Agent | undefined;
let stream: (StreamHandle & { closed?: Promise<void> }) | undefined;

afterEach(async () => {
  stream?.close();
  await stream?.closed;
  await dispatcher?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  dispatcher = undefined;
  stream = undefined;
});

type Script = (connection: number, url: URL) => { events: { event: string; data: unknown }[]; end: boolean };

async function mcServer(script: Script): Promise<{ mc: MissionControlClient; urls: URL[]; auth: string[] }> {
  const urls: URL[] = [];
  const auth: string[] = [];
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    urls.push(url);
    auth.push(String(req.headers.authorization));
    const { events, end } = script(urls.length, url);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const e of events) res.write(`event: ${e.event}\ndata: ${typeof e.data === 'string' ? e.data : JSON.stringify(e.data)}\n\n`);
    if (end) res.end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  dispatcher = new Agent();
  const mc = new MissionControlClient({
    apiUrl: `http://127.0.0.1:${port}/api/v1`,
    token: 'tok',
    dispatcher,
    stream: { backoff: { baseMs: 20, capMs: 50 }, minDelayMs: 5 },
  });
  return { mc, urls, auth };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function task(id: string, status = 'inbox') {
  return {
    id,
    board_id: 'b1',
    title: id,
    status,
    created_at: '2026-03-01T12:00:00',
    updated_at: '2026-03-01T12:00:00',
    custom_field_values: { mc_progress: 1 },
  };
}

function activity(id: string, at: string, taskId = 't1') {
  return { id, event_type: 'x', message: null, agent_id: null, task_id: taskId, created_at: at };
}

describe('streamTasks', () => {
  it('delivers each activity once across a reconnect that resumes with since', async () => {
    const { mc, urls, auth } = await mcServer((n) => {
      if (n === 1) {
        return {
          end: true,
          events: [
            { event: 'task', data: { type: 'task.created', activity: activity('a1', '2026-03-01T12:00:01.000001'), task: task('t1') } },
            {
              event: 'task',
              data: {
                type: 'task.comment',
                activity: activity('a2', '2026-03-01T12:00:02.5'),
                comment: { id: 'c1', message: 'hello', agent_id: null, task_id: 't1', created_at: '2026-03-01T12:00:02.5' },
              },
            },
          ],
        };
      }
      return {
        end: false,
        events: [
          // the server replays what is at or after `since`
          { event: 'task', data: { type: 'task.comment', activity: activity('a2', '2026-03-01T12:00:02.5'), comment: null } },
          { event: 'task', data: 'not json' },
          { event: 'task', data: { unexpected: true } },
          { event: 'task', data: { type: 'task.status_changed', activity: activity('a3', '2026-03-01T12:00:03'), task: task('t1', 'review') } },
        ],
      };
    });
    const events: TaskStreamEvent[] = [];
    stream = mc.streamTasks('b1', { onEvent: (e) => events.push(e) });
    await until(() => events.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => e.type)).toEqual(['task.created', 'task.comment', 'task.status_changed']);
    expect(events[0]).toMatchObject({ taskId: 't1', task: { id: 't1', fields: { mc_progress: 1 } }, at: Date.UTC(2026, 2, 1, 12, 0, 1) });
    expect(events[1]).toMatchObject({ taskId: 't1', comment: { id: 'c1', message: 'hello', taskId: 't1' } });
    expect(events[2]).toMatchObject({ task: { status: 'review' } });
    expect(urls[0]?.pathname).toBe('/api/v1/boards/b1/tasks/stream');
    expect(urls[0]?.searchParams.has('since')).toBe(false);
    expect(urls[1]?.searchParams.get('since')).toBe('2026-03-01T12:00:02.5');
    expect(auth[0]).toBe('Bearer tok');
  });
  it('resumes from the opening time when a connection drops before any event', async () => {
    const { mc, urls } = await mcServer(() => ({ end: true, events: [] }));
    const opened = Date.now();
    stream = mc.streamTasks('b1', { onEvent: () => undefined });
    await until(() => urls.length >= 2);
    expect(urls[0]?.searchParams.has('since')).toBe(false);
    const since = Date.parse(urls[1]?.searchParams.get('since') ?? '');
    expect(since).toBeLessThanOrEqual(opened);
    expect(opened - since).toBeLessThan(10_000);
  });

  it('with `since` (the caller listed first), the first connection asks from then: a change made before it connects is delivered', async () => {
    const listedAt = Date.parse('2026-03-01T12:00:00Z');
    const changedAt = '2026-03-01T12:00:01'; // after the listing, before the stream connected
    const { mc, urls } = await mcServer((_n, url) => {
      const since = url.searchParams.get('since');
      // like upstream: without since the server starts at the connection and never sends the earlier change
      const replay = since !== null && Date.parse(`${changedAt}Z`) >= Date.parse(since.endsWith('Z') ? since : `${since}Z`);
      return { end: false, events: replay ? [{ event: 'task', data: { type: 'task.updated', activity: activity('a1', changedAt), task: task('t1') } }] : [] };
    });
    const got: TaskStreamEvent[] = [];
    stream = mc.streamTasks('b1', { onEvent: (e) => got.push(e), since: listedAt });
    await until(() => got.length === 1);
    expect(got[0]?.taskId).toBe('t1');
    expect(Date.parse(urls[0]?.searchParams.get('since') ?? '')).toBe(listedAt - 2_000);
  });
});

describe('streamApprovals', () => {
  const approval = (status: string, resolvedAt: string | null) => ({
    approval: {
      id: 'ap1',
      board_id: 'b1',
      action_type: 'manual_override',
      task_id: 't1',
      task_ids: ['t1'],
      payload: { reason: 'r' },
      confidence: 80,
      status,
      created_at: '2026-03-01T12:00:00',
      resolved_at: resolvedAt,
    },
    pending_approvals_count: status === 'pending' ? 1 : 0,
    task_counts: [{ task_id: 't1', approvals_count: 1, approvals_pending_count: 0 }],
  });

  it('drops the server re-sends and reports a resolution once', async () => {
    const { mc, urls } = await mcServer((n) => ({
      end: n < 3,
      events: [
        { event: 'approval', data: approval('pending', null) },
        { event: 'approval', data: approval('pending', null) },
        ...(n >= 2 ? [{ event: 'approval', data: approval('approved', '2026-03-01T12:05:00') }] : []),
        { event: 'approval', data: { approval: { id: 'bad', status: 'pending', confidence: 'high' } } },
      ],
    }));
    const events: ApprovalStreamEvent[] = [];
    stream = mc.streamApprovals('b1', { onEvent: (e) => events.push(e) });
    await until(() => urls.length >= 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(events.map((e) => [e.approval.status, e.approval.resolvedAt, e.pendingApprovalsCount])).toEqual([
      ['pending', null, 1],
      ['approved', Date.UTC(2026, 2, 1, 12, 5), 0],
    ]);
    expect(urls[1]?.searchParams.get('since')).toBe('2026-03-01T12:00:00');
    expect(urls[2]?.searchParams.get('since')).toBe('2026-03-01T12:05:00');
  });
});

describe('RecentKeys', () => {
  it('forgets the oldest keys beyond its capacity', () => {
    const keys = new RecentKeys(2);
    expect(keys.add('a')).toBe(true);
    expect(keys.add('a')).toBe(false);
    keys.add('b');
    keys.add('c');
    expect(keys.add('b')).toBe(false);
    expect(keys.add('a')).toBe(true);
  });
});
