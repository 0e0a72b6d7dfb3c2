import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { Child, waitHttpOk, freePort } from '../harness/child.js';
import { stateDir } from '../harness/controller-provider.js';
import { scenario, useStage } from '../harness/runner.js';

/**
 * Shutdown within its budget while Mission Control stalls: SIGTERM drains for MC_DRAIN_SECONDS, then aborts the
 * requests still open, releases the lock last and exits 0 — well inside systemd's TimeoutStopSec and the pod's
 * grace period. A second signal exits 1 at once.
 */
const stage = useStage({ seed: 'empty' });
const DRAIN_S = 3;

interface Held {
  method: string;
  path: string;
  openedAt: number;
  closedAt: number | null;
}

/**
 * Mission Control behind a switch: forwards everything to the sandbox until `stall` is set, then holds every new
 * request open without an answer (as a hung upstream does) and records when the client gave up on it.
 */
async function stallingProxy(targetApiUrl: string) {
  const target = new URL(targetApiUrl);
  const held: Held[] = [];
  const state = { stall: false };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (state.stall) {
      const h: Held = { method: req.method ?? '?', path: req.url ?? '', openedAt: Date.now(), closedAt: null };
      held.push(h);
      req.resume();
      res.on('close', () => (h.closedAt = Date.now()));
      return;
    }
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    apiUrl: `http://127.0.0.1:${port}${target.pathname}`,
    held,
    state,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const proxies: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
});

async function startStalled() {
  const proxy = await stallingProxy(stage.info.mcApiUrl);
  proxies.push(proxy);
  const dir = stateDir('mc-shutdown-');
  const port = await freePort();
  const child = new Child(
    ['run'],
    stage.env({
      MC_API_URL: proxy.apiUrl,
      MC_STATE_DIR: dir.path,
      MC_PROBE_ADDR: `127.0.0.1:${port}`,
      MC_DRAIN_SECONDS: String(DRAIN_S),
      MC_RESYNC_SECONDS: '1',
      MC_DELIVERY_BACKLOG: 'deliver',
      MC_LOG_LEVEL: 'info',
    }),
  );
  await waitHttpOk(`http://127.0.0.1:${port}/readyz`, { alive: () => child.running, describe: () => child.stderrTail() });
  // Mission Control hangs from now on; a finished task (announced over the already open stream) gives the loop
  // an action whose write is stuck in flight, and the resyncs' list reads hang too.
  proxy.state.stall = true;
  await stage.world.createTask({ title: 'shutdown: stuck delivery', status: 'done', fields: { mc_output_summary: 'never lands' } });
  const end = Date.now() + 20_000;
  // both kinds in flight: a write of the queue (drained) and a resync's read (outside the queue)
  while (!proxy.held.some((h) => h.method !== 'GET') || !proxy.held.some((h) => h.method === 'GET')) {
    if (Date.now() > end) throw new Error(`no write and read got stuck: ${JSON.stringify(proxy.held)}\n${child.stderrTail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proxy, child, dir, lock: join(dir.path, 'controller.lock') };
}

describe('shutdown while Mission Control stalls', () => {
  scenario(
    'SIGTERM: drain, abort what is still open, release the lock last, exit 0 within the budget',
    async () => {
      const { proxy, child, dir, lock } = await startStalled();
      try {
        expect(existsSync(lock)).toBe(true);
        const t0 = Date.now();
        child.kill('SIGTERM');
        let lockGoneAt: number | null = null;
        while (child.running) {
          if (lockGoneAt === null && !existsSync(lock)) lockGoneAt = Date.now();
          await new Promise((r) => setTimeout(r, 5));
        }
        await child.exited;
        const exitMs = Date.now() - t0;
        console.log(`[shutdown] exit after ${exitMs} ms (drain ${DRAIN_S} s); ${proxy.held.length} stalled request(s)`);
        expect(child.exitCode, child.stderrTail()).toBe(0);
        // the drain budget plus the few seconds of abort and release; far below TimeoutStopSec=30
        expect(exitMs).toBeLessThan(DRAIN_S * 1000 + 4_000);
        expect(lockGoneAt).not.toBeNull();
        // every stalled request was closed by the controller, none after the lock went (20 ms: this process's
        // own event-loop delay in seeing a socket close)
        for (const h of proxy.held) {
          expect(h.closedAt, `${h.method} ${h.path} still open`).not.toBeNull();
          expect(h.closedAt!, `${h.method} ${h.path} closed after the lock was released`).toBeLessThanOrEqual(lockGoneAt! + 20);
        }
        expect(child.stderr).toMatch(/abort in-flight requests/);
      } finally {
        await child.stop(1_000);
        dir.remove();
      }
    },
    60_000,
  );

  scenario(
    'a second signal exits 1 at once',
    async () => {
      const { child, dir } = await startStalled();
      try {
        child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 300));
        const t0 = Date.now();
        child.kill('SIGTERM');
        await child.exited;
        expect(child.exitCode).toBe(1);
        expect(Date.now() - t0).toBeLessThan(1_500);
      } finally {
        await child.stop(1_000);
        dir.remove();
      }
    },
    60_000,
  );
});
