import { afterEach, describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { parseListenAddress, startMetricsServer, startProbeServer, type RunningServer } from './index.js';

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

describe('metrics server', () => {
  it('serves the registry on GET and HEAD /metrics only', async () => {
    const registry = new Registry();
    new Counter({ name: 'mc_example_total', help: 'An example.', registers: [registry] }).inc(2);
    const server = await startMetricsServer({ addr: '127.0.0.1:0', registry });
    servers.push(server);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    expect(await res.text()).toContain('mc_example_total 2');
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
});
