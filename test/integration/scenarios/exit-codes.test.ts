import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import { once, stateDir } from '../harness/controller-provider.js';
import { scenario, useStage } from '../harness/runner.js';

/**
 * `once` tells cron and systemd the truth: a failed action exits 1 (and `--json` says so in its outcome line),
 * a lock held by a live process exits 4 naming the holder, and a lock whose holder cannot be read is taken
 * over once it is older than the lease duration instead of blocking every run.
 */
const stage = useStage({ seed: 'empty' });
const deliver = { MC_DELIVERY_BACKLOG: 'deliver' };

interface Outcome {
  failed: number;
  exitCode: number;
  applied: number;
}
const outcomeLine = (stdout: string): Outcome => {
  const last = stdout.trim().split('\n').at(-1)!;
  return (JSON.parse(last) as { outcome: Outcome }).outcome;
};

const servers: Server[] = [];
afterAll(async () => {
  await stage.world?.faults({});
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

/** A Discord that answers 500 to everything. */
async function brokenDiscord(): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"500: Internal Server Error","code":0}');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
}

describe('once: exit codes', () => {
  scenario('a Discord 429 with a long Retry-After: exit 1, and --json carries the same outcome', async () => {
    const { world } = stage;
    await world.createTask({ title: 'exit codes: 429', status: 'done', fields: { mc_output_summary: 'rate limited result' } });
    await world.faults({ discord: { rateLimitEvery: 1, retryAfterSeconds: 60 } });
    try {
      const plain = await stage.once(deliver);
      expect(plain.code, plain.stderr.slice(-2000)).toBe(1);
      expect(plain.stdout).toMatch(/[1-9]\d* failed/);
      const json = await stage.once(deliver, ['--json']);
      expect(json.code).toBe(1);
      expect(outcomeLine(json.stdout)).toMatchObject({ exitCode: 1, failed: expect.any(Number) });
      expect(outcomeLine(json.stdout).failed).toBeGreaterThan(0);
      expect(json.stdout).toContain('"outcome":"failed"');
    } finally {
      await world.faults({});
    }
    // the next clean pass delivers it and exits 0
    const ok = await stage.once(deliver, ['--json']);
    expect(ok.code, ok.stderr.slice(-2000)).toBe(0);
    expect(outcomeLine(ok.stdout)).toMatchObject({ exitCode: 0, failed: 0 });
  });

  scenario('a Discord 500: exit 1', async () => {
    await stage.world.createTask({ title: 'exit codes: 500', status: 'done', fields: { mc_output_summary: 'server error result' } });
    const r = await stage.once({ ...deliver, DISCORD_API_URL: await brokenDiscord() });
    expect(r.code, r.stderr.slice(-2000)).toBe(1);
    expect(r.stdout).toMatch(/[1-9]\d* failed/);
    expect(r.stderr).toMatch(/discord\.post failed/);
  });
});

describe('once: the controller lock', () => {
  /** `once` with its own state folder; `lock` is the lock file's path in it. */
  async function withLockDir(body: (lock: string, run: (extra?: Record<string, string>) => ReturnType<typeof once>) => Promise<void>): Promise<void> {
    const dir = stateDir('mc-lock-');
    try {
      mkdirSync(dir.path, { recursive: true });
      await body(join(dir.path, 'controller.lock'), (extra = {}) => once(stage.env({ MC_STATE_DIR: dir.path, ...extra })));
    } finally {
      dir.remove();
    }
  }
  /** a minute old: past the 15 s lease duration */
  const age = (lock: string) => {
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(lock, old, old);
  };

  scenario('a lock held by a live process: exit 4 with the holder named, nothing written', () =>
    withLockDir(async (lock, run) => {
      writeFileSync(lock, `${JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: Date.now() - 60_000, identity: 'cron-holder-7' })}\n`);
      const before = (await stage.world.stats()).mc.writes;
      const r = await run();
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('another instance holds the controller lock: cron-holder-7');
      expect(r.stderr).toContain(`pid ${process.pid} on ${hostname()}`);
      expect((await stage.world.stats()).mc.writes).toBe(before);
      expect(readFileSync(lock, 'utf8')).toContain('cron-holder-7');
    }),
  );

  scenario('a torn lock younger than the lease: exit 4 naming the unreadable lock; older: taken over with a warning', () =>
    withLockDir(async (lock, run) => {
      writeFileSync(lock, '{"pid":12');
      const fresh = await run();
      expect(fresh.code).toBe(4);
      expect(fresh.stderr).toContain(`unreadable lock file ${lock}`);

      age(lock);
      const r = await run();
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(r.stderr).toContain('Taking over a stale controller lock file');
      expect(r.stderr).toContain('holder unreadable');
      expect(readFileSync(`${lock}.stale`, 'utf8')).toBe('{"pid":12');
      // released at the end of the pass
      expect(existsSync(lock)).toBe(false);
    }),
  );

  scenario('garbage in the lock file (binary, a JSON array): taken over once older than the lease', () =>
    withLockDir(async (lock, run) => {
      for (const garbage of ['\u0000\u0001\u0002garbage', '[1,2,3]']) {
        writeFileSync(lock, garbage);
        age(lock);
        const r = await run();
        expect(r.code, r.stderr.slice(-2000)).toBe(0);
        expect(existsSync(lock)).toBe(false);
      }
    }),
  );
});
