import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { freePort, runToEnd } from '../harness/child.js';
import { startRun } from '../harness/controller-provider.js';
import { scenario, useStage } from '../harness/runner.js';
import { startTcpForward } from '../harness/tcp-forward.js';

/**
 * `run` at start-up, as an operator meets it: Mission Control not listening yet (retried, the probes say so,
 * the board is reconciled as soon as it answers) and a token it refuses (exit 1 at once, one clear line).
 */
const stage = useStage({ seed: 'empty' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('run at start-up', () => {
  scenario(
    'Mission Control unreachable: run retries, /healthz and /readyz say it waits, and it reconciles once the peer answers',
    async () => {
      const { world, info } = stage;
      const t = await world.createTask({ title: 'startup done', status: 'done', fields: { mc_output_summary: 'delivered after the wait' } });
      const port = await freePort();
      const real = new URL(info.mcApiUrl);
      const run = await startRun(stage.env({ MC_API_URL: `http://127.0.0.1:${port}${real.pathname}`, MC_DELIVERY_BACKLOG: 'deliver' }), { waitReady: true });
      let forward: Awaited<ReturnType<typeof startTcpForward>> | undefined;
      try {
        let ready = await json(`${run.probeUrl}/readyz`);
        for (let i = 0; i < 100 && !JSON.stringify(ready.body).includes('waiting for Mission Control'); i++) {
          await sleep(200);
          ready = await json(`${run.probeUrl}/readyz`);
        }
        expect(ready.status).toBe(503);
        const sync = (ready.body.checks as { name: string; detail?: string }[]).find((c) => c.name === 'sync:mission-control');
        expect(sync?.detail).toMatch(/waiting for Mission Control: .*unreachable.*ECONNREFUSED.*attempt \d+, next in \d+ s/);
        const health = await json(`${run.probeUrl}/healthz`);
        expect(health.status).toBe(200);
        expect(health.body).toMatchObject({ ok: true, phase: 'waiting', detail: expect.stringContaining('waiting for Mission Control') });
        expect(run.running()).toBe(true);

        forward = await startTcpForward(port, real);
        let delivered = false;
        for (let i = 0; i < 150 && !delivered; i++) {
          await sleep(200);
          delivered = (await world.task(t.id)).custom_field_values?.['mc_delivered'] === true;
        }
        expect(delivered, `not delivered after Mission Control came up\n${run.stderrTail()}`).toBe(true);
        const after = await json(`${run.probeUrl}/healthz`);
        expect(after.body).toMatchObject({ ok: true, phase: 'running' });
        expect((await json(`${run.probeUrl}/readyz`)).status).toBe(200);
      } finally {
        await run.stop();
        await forward?.close();
      }
    },
    90_000,
  );

  scenario(
    'a refused token: run exits 1 at once with one clear line, never prints the token, and frees the lock',
    async () => {
      const wrong = `wrong-token-${'z'.repeat(50)}`;
      const started = Date.now();
      const r = await runToEnd(['run'], stage.env({ MC_AUTH_TOKEN: wrong, MC_LOG_LEVEL: 'error' }), { timeoutMs: 45_000 });
      const seconds = (Date.now() - started) / 1000;
      expect(r.signal, `run did not exit by itself (${seconds} s)\n${r.stderr.slice(-2000)}`).toBeNull();
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^mc-controller: Mission Control rejected the auth token \(401 on GET [^)]+\): set a valid token in MC_AUTH_TOKEN/);
      expect(r.stderr + r.stdout).not.toContain(wrong);
      expect(existsSync(join(stage.state, 'controller.lock'))).toBe(false);
    },
    60_000,
  );
});
