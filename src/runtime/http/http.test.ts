import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, METRIC_NAMES } from '../metrics.js';
import { buildReadiness, parseListenAddress, startMetricsServer, startProbeServer, type RunningServer } from './index.js';

const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('parseListenAddress', () => {
  it('parses host:port and bracketed IPv6, allows port 0', () => {
    expect(parseListenAddress('127.0.0.1:8081')).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(parseListenAddress('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListenAddress('[::1]:9')).toEqual({ host: '::1', port: 9 });
  });
  it.each(['8081', '127.0.0.1', 'host:99999', 'a b:1', ''])('rejects %j', (value) => {
    expect(() => parseListenAddress(value)).toThrow(/invalid listen address/);
  });
});

describe('probe server', () => {
  it('answers /healthz from the heartbeat and /readyz from the readiness function', async () => {
    let heartbeat = Date.now();
    let ready = true;
    const probe = await startProbeServer({
      addr: '127.0.0.1:0',
      heartbeat: () => heartbeat,
      maxHeartbeatAgeMs: 30_000,
      readiness: () => ({
        ready,
        role: 'standby',
        checks: [{ name: 'sync:mission-control', ok: ready, detail: ready ? 'fresh' : 'stale' }],
      }),
    });
    servers.push(probe);
    expect(probe.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    const health = await fetch(`${probe.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });

    heartbeat = Date.now() - 60_000;
    const stale = await fetch(`${probe.url}/healthz`);
    expect(stale.status).toBe(503);
    expect(await stale.json()).toMatchObject({ ok: false });

    const readyRes = await fetch(`${probe.url}/readyz`);
    expect(readyRes.status).toBe(200);
    expect(await readyRes.json()).toEqual({
      ready: true,
      role: 'standby',
      checks: [{ name: 'sync:mission-control', ok: true, detail: 'fresh' }],
    });
    ready = false;
    const notReady = await fetch(`${probe.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(((await notReady.json()) as { checks: unknown[] }).checks[0]).toMatchObject({ ok: false, detail: 'stale' });

    expect((await fetch(`${probe.url}/other`)).status).toBe(404);
    expect((await fetch(`${probe.url}/healthz`, { method: 'POST' })).status).toBe(405);
  });

  it('reports a throwing readiness function as not ready instead of crashing', async () => {
    const probe = await startProbeServer({
      addr: '127.0.0.1:0',
      heartbeat: Date.now,
      maxHeartbeatAgeMs: 1000,
      readiness: () => {
        throw new Error('store not built');
      },
    });
    servers.push(probe);
    const res = await fetch(`${probe.url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { checks: unknown[] }).checks[0]).toMatchObject({ name: 'readiness', ok: false, detail: 'store not built' });
  });
});

describe('buildReadiness', () => {
  it('needs valid config and fresh sources; a healthy standby is ready and says so', () => {
    let leader = false;
    let boardAt: number | null = null;
    const now = 1_000_000;
    const readiness = buildReadiness({
      configValid: () => true,
      sources: [
        { name: 'mission-control', lastSuccessAt: () => boardAt, maxAgeMs: 90_000 },
        { name: 'gateway', lastSuccessAt: () => now - 1000, maxAgeMs: 90_000 },
      ],
      isLeader: () => leader,
      currentLeader: () => 'pod-a',
      now: () => now,
    });
    expect(readiness().ready).toBe(false);
    expect(readiness().checks.find((c) => c.name === 'sync:mission-control')?.detail).toBe('not synced yet');
    boardAt = now - 10_000;
    expect(readiness()).toMatchObject({ ready: true, role: 'standby' });
    expect(readiness().checks.at(-1)?.detail).toBe('standby (leader: pod-a)');
    leader = true;
    expect(readiness()).toMatchObject({ ready: true, role: 'leader' });
    boardAt = now - 100_000;
    expect(readiness().ready).toBe(false);
  });
});

describe('metrics', () => {
  it('serves exactly the mc_* metrics plus process metrics on /metrics', async () => {
    const metrics = createMetrics();
    const hooks = metrics.controllerHooks();
    hooks.onAdd?.('task/b/t');
    hooks.onDepth?.(3);
    hooks.onRetry?.('task/b/t', 1, 1000, new Error('x'));
    hooks.onQueueDuration?.(250);
    hooks.reconciled?.('stall', 'success', 0.02);
    hooks.reconciled?.('stall', 'error', 0.5, 'timeout');
    hooks.action?.('comment.create', 'applied');
    hooks.synced?.('mission-control', true);
    hooks.synced?.('gateway', false);
    metrics.degraded.set(0);
    metrics.leader.set(1);

    const server = await startMetricsServer({ addr: '127.0.0.1:0', registry: metrics.registry });
    servers.push(server);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const name of METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
    const ours = new Set([...text.matchAll(/^# TYPE (mc_\w+) /gm)].map((m) => m[1]));
    expect([...ours].sort()).toEqual([...METRIC_NAMES].sort());
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('mc_reconcile_total{reconciler="stall",result="error"} 1');
    expect(text).toContain('mc_reconcile_errors_total{reconciler="stall",error_class="timeout"} 1');
    expect(text).toContain('mc_actions_total{action="comment.create",outcome="applied"} 1');
    expect(text).toContain('mc_downstream_up{downstream="gateway"} 0');
    expect(text).toMatch(/mc_last_sync_timestamp_seconds\{source="mission-control"\} \d+/);
    expect(text).toContain('mc_workqueue_depth 3');
    // No per-task labels ever reach the exposition.
    expect(text).not.toMatch(/task\/b\/t|task_id|taskId/);
    expect((await fetch(`${server.url}/`)).status).toBe(404);
    // only GET and HEAD read metrics; anything else is 405 with Allow, and HEAD has no body
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const refused = await fetch(`${server.url}/metrics`, { method });
      expect(refused.status, method).toBe(405);
      expect(refused.headers.get('allow'), method).toBe('GET, HEAD');
    }
    const head = await fetch(`${server.url}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('keeps registries separate per controller', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.leader.set(1);
    expect(await b.render()).toContain('mc_leader 0');
  });
});
