import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../index.js';
import { sendJson } from '../http.js';
import { control, mcClient } from '../testing/client.js';

let sandbox: SandboxHandle;

beforeAll(async () => {
  sandbox = await startSandbox({
    seed: 'demo',
    controlRoutes: [
      async (req, res, url) => {
        if (url.pathname !== '/gateway/ping' || req.method !== 'GET') return false;
        sendJson(res, 200, { pong: true });
        return true;
      },
    ],
  });
});
afterAll(() => sandbox.close());

describe('control API', () => {
  it('prints ready info with a long MC token and 127.0.0.1 urls', () => {
    const { info } = sandbox;
    expect(info.mcApiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
    expect(info.discordApiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api$/);
    expect(info.mcAuthToken.length).toBeGreaterThanOrEqual(50);
    expect(info.controlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('counts requests and writes per route family and resets them', async () => {
    const mc = mcClient(sandbox.info);
    await control(sandbox.info, 'POST', '/stats/reset');
    await mc.get(`${mc.board}/tasks`);
    await mc.get('/organizations/me/custom-fields');
    const t = (await mc.createTask({ title: 'counted' })).body;
    await mc.post(`${mc.board}/tasks/${t.id}/comments`, { message: 'c' });
    const stats = (await control(sandbox.info, 'GET', '/stats')).body.mc;
    expect(stats).toMatchObject({ requests: 4, writes: 2 });
    expect(stats.byFamily.tasks).toEqual({ requests: 2, writes: 1 });
    expect(stats.byFamily.comments).toEqual({ requests: 1, writes: 1 });
    expect(stats.byFamily['custom-fields']).toEqual({ requests: 1, writes: 0 });
    await control(sandbox.info, 'POST', '/stats/reset');
    expect((await control(sandbox.info, 'GET', '/stats')).body.mc.requests).toBe(0);
  });

  it('injects Mission Control faults and latency, and clears them with PUT {}', async () => {
    const mc = mcClient(sandbox.info);
    const set = await control(sandbox.info, 'PUT', '/faults', { mc: { errorRate: 1, kinds: ['503'] } });
    expect(set.body.mc).toMatchObject({ errorRate: 1, kinds: ['503'] });
    const failed = await mc.get(`${mc.board}/tasks`);
    expect(failed.status).toBe(503);
    expect(failed.body.request_id).toBeTruthy();
    await control(sandbox.info, 'PUT', '/faults', { mc: { errorRate: 1, kinds: ['429'] } });
    expect((await mc.get(`${mc.board}/tasks`)).headers.get('retry-after')).toBe('1');
    await control(sandbox.info, 'PUT', '/faults', { mc: { errorRate: 1, kinds: ['stall'], stallMs: 200 } });
    expect((await mc.get(`${mc.board}/tasks`)).status).toBe(504);
    // a faulted write is not applied
    await control(sandbox.info, 'PUT', '/faults', { mc: { errorRate: 1, kinds: ['500'] } });
    expect((await mc.createTask({ title: 'lost' })).status).toBe(500);
    await control(sandbox.info, 'PUT', '/faults', { mc: { latencyMs: 150 } });
    const started = Date.now();
    expect((await mc.get(`${mc.board}/tasks`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await control(sandbox.info, 'PUT', '/faults', {});
    expect((await control(sandbox.info, 'GET', '/faults')).body.mc).toMatchObject({ errorRate: 0, latencyMs: 0 });
    expect((await mc.allTasks()).some((t) => t.title === 'lost')).toBe(false);
    expect((await control(sandbox.info, 'PUT', '/faults', { mc: { errorRate: 2 } })).status).toBe(400);
  });

  it('reset-after-commit applies the write, then resets the connection instead of answering', async () => {
    const mc = mcClient(sandbox.info);
    await control(sandbox.info, 'PUT', '/faults', { mc: { errorRate: 1, kinds: ['reset-after-commit'] } });
    const title = `committed ${Date.now()}`;
    const lost = await mc.createTask({ title }).then(
      () => null,
      (err: Error) => err,
    );
    await control(sandbox.info, 'PUT', '/faults', {});
    expect(lost).toBeInstanceOf(Error);
    expect(String((lost as Error & { cause?: { code?: string } }).cause?.code)).toMatch(/ECONNRESET|UND_ERR_SOCKET/);
    expect((await mc.allTasks()).filter((t) => t.title === title)).toHaveLength(1);
  });

  it('partial error rates fail only some requests', async () => {
    const mc = mcClient(sandbox.info);
    await control(sandbox.info, 'PUT', '/faults', { mc: { errorRate: 0.5, kinds: ['502'] } });
    const statuses = await Promise.all(Array.from({ length: 60 }, () => mc.get(`${mc.board}/tasks?limit=1`).then((r) => r.status)));
    await control(sandbox.info, 'PUT', '/faults', {});
    const failed = statuses.filter((s) => s === 502).length;
    expect(failed).toBeGreaterThan(5);
    expect(failed).toBeLessThan(55);
    expect(statuses.every((s) => s === 200 || s === 502)).toBe(true);
  });

  it('backdates a task for stall tests', async () => {
    const mc = mcClient(sandbox.info);
    const t = (await mc.createTask({ title: 'old', status: 'in_progress' })).body;
    const res = await control(sandbox.info, 'PATCH', `/mc/tasks/${t.id}/timestamps`, { in_progress_at: '2026-01-01T00:00:00Z' });
    expect(res.body.in_progress_at).toBe('2026-01-01T00:00:00.000000');
    const listed = (await mc.allTasks()).find((x) => x.id === t.id);
    expect(listed.in_progress_at).toBe('2026-01-01T00:00:00.000000');
  });

  it('serves extension routes and 404s the rest', async () => {
    expect((await control(sandbox.info, 'GET', '/gateway/ping')).body).toEqual({ pong: true });
    expect((await control(sandbox.info, 'GET', '/nope')).status).toBe(404);
  });

  it('lists every Discord message', async () => {
    await fetch(`${sandbox.info.discordApiUrl}/v10/channels/${sandbox.info.discordChannelId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bot ${sandbox.info.discordBotToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'hello' }),
    });
    const all = (await control(sandbox.info, 'GET', '/discord/messages')).body.messages;
    expect(all.at(-1).content).toBe('hello');
  });
});

describe('close()', () => {
  it('ends open streams and stalled requests promptly', async () => {
    const s = await startSandbox({ seed: 'empty' });
    const mc = mcClient(s.info);
    const stream = await fetch(`${s.info.mcApiUrl}${mc.board}/tasks/stream`, { headers: { authorization: `Bearer ${s.info.mcAuthToken}` } });
    expect(stream.status).toBe(200);
    await control(s.info, 'PUT', '/faults', { mc: { errorRate: 1, kinds: ['stall'], stallMs: 60_000 } });
    const stalled = mc.get(`${mc.board}/tasks`).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await s.close();
    expect(Date.now() - started).toBeLessThan(5000);
    await stalled;
    await stream.body?.cancel().catch(() => undefined);
  });
});
