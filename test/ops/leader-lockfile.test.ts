import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockFileElector } from '../../src/runtime/leader/index.js';

async function until(cond: () => boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - start;
}

/** A pid that existed and has exited (the OS could reuse it, but not within this test). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('lock-file leader election', () => {
  let dir: string;
  let path: string;
  const electors: LockFileElector[] = [];
  const make = (identity: string, extra: Partial<ConstructorParameters<typeof LockFileElector>[0]> = {}) => {
    const e = new LockFileElector({ path, identity, retryPeriodMs: 100, ...extra });
    electors.push(e);
    return e;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mc-lock-'));
    path = join(dir, 'controller.lock');
  });
  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.release()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets one of two contenders win and hands over on release', async () => {
    // Two "processes" on one host: distinct pids and start times, both alive.
    const a = make('a', { pid: 1_000_001, startedAt: 1, isAlive: () => true });
    const b = make('b', { pid: 1_000_002, startedAt: 2, isAlive: () => true });
    const [wonA, wonB] = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
    expect([wonA, wonB].filter(Boolean)).toHaveLength(1);
    const [leader, standby] = wonA ? [a, b] : [b, a];
    const content = JSON.parse(readFileSync(path, 'utf8'));
    expect(content).toMatchObject({ identity: leader.identity, hostname: hostname() });
    expect(typeof content.startedAt).toBe('number');

    standby.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(standby.isLeader()).toBe(false);
    expect(standby.currentHolder()).toBe(leader.identity);

    await leader.release();
    await until(() => standby.isLeader(), 2000);
    expect(JSON.parse(readFileSync(path, 'utf8')).identity).toBe(standby.identity);
  });

  it('takes over the stale lock of a dead pid on this host', async () => {
    const pid = deadPid();
    writeFileSync(path, JSON.stringify({ pid, hostname: hostname(), startedAt: 5, identity: 'ghost' }));
    const a = make('a');
    await expect(a.tryAcquire()).resolves.toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ identity: 'a', pid: process.pid });
    expect(JSON.parse(readFileSync(`${path}.stale`, 'utf8')).identity).toBe('ghost');
    expect(existsSync(`${path}.takeover`)).toBe(false);
  });

  it('never takes a live pid or another host’s lock', async () => {
    writeFileSync(path, JSON.stringify({ pid: process.ppid, hostname: hostname(), startedAt: 5, identity: 'alive' }));
    await expect(make('a').tryAcquire()).resolves.toBe(false);
    writeFileSync(path, JSON.stringify({ pid: deadPid(), hostname: 'elsewhere', startedAt: 5, identity: 'remote' }));
    await expect(make('b').tryAcquire()).resolves.toBe(false);
    expect(JSON.parse(readFileSync(path, 'utf8')).identity).toBe('remote');
  });

  it('treats its own pid from an earlier start as stale (container restarts as pid 1)', async () => {
    writeFileSync(path, JSON.stringify({ pid: process.pid, hostname: hostname(), startedAt: 1, identity: 'me-before' }));
    await expect(make('me-now').tryAcquire()).resolves.toBe(true);
  });

  it('lets only one of two contenders take over the same stale lock', async () => {
    writeFileSync(path, JSON.stringify({ pid: deadPid(), hostname: hostname(), startedAt: 5, identity: 'ghost' }));
    const a = make('a', { pid: 1_000_001, startedAt: 1, isAlive: (p) => p >= 1_000_000 });
    const b = make('b', { pid: 1_000_002, startedAt: 2, isAlive: (p) => p >= 1_000_000 });
    const results = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('reports loss when the lock file is removed under a leader', async () => {
    const reasons: string[] = [];
    const a = make('a', { callbacks: { onStoppedLeading: (r) => reasons.push(r) } });
    await a.tryAcquire();
    a.start();
    unlinkSync(path);
    await until(() => reasons.length > 0, 2000);
    expect(reasons).toEqual(['lock file removed']);
    expect(a.isLeader()).toBe(false);
  });

  it('removes its lock on release and leaves a foreign one alone', async () => {
    const a = make('a');
    await a.tryAcquire();
    await a.release();
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, JSON.stringify({ pid: process.ppid, hostname: hostname(), startedAt: 5, identity: 'other' }));
    await make('c').release();
    expect(existsSync(path)).toBe(true);
  });
});
