import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LockFileElector } from './lock-file-elector.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'mc-lockfile-'));
  dirs.push(dir);
  const path = join(dir, 'controller.lock');
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (o: object, m?: string) => void warnings.push(`${m} ${JSON.stringify(o)}`) };
  const elector = () => new LockFileElector({ path, identity: 'me', unreadableStaleAfterMs: 15_000, logger });
  const age = (ms: number) => {
    const t = (Date.now() - ms) / 1000;
    utimesSync(path, t, t);
  };
  return { path, warnings, elector, age };
}

describe('LockFileElector: a lock whose holder cannot be read', () => {
  it('is left alone while younger than the lease duration, and named as unreadable', async () => {
    const { path, elector, age } = setup();
    writeFileSync(path, '{"pid":12');
    age(10_000);
    const e = elector();
    expect(await e.tryAcquire()).toBe(false);
    expect(e.describeHolder()).toMatch(new RegExp(`^unreadable lock file ${path} \\(10 s old; taken over once older than 15 s\\)$`));
    expect(readFileSync(path, 'utf8')).toBe('{"pid":12');
  });

  it('is taken over with a warning once older than the lease duration; the old file is kept', async () => {
    for (const garbage of ['', '\u0000\u0001', '[1,2]', '{"pid":0,"hostname":"x","startedAt":1,"identity":"y"}']) {
      const { path, warnings, elector, age } = setup();
      writeFileSync(path, garbage);
      age(16_000);
      const e = elector();
      expect(await e.tryAcquire(), JSON.stringify(garbage)).toBe(true);
      expect(warnings.join('\n')).toMatch(/Taking over a stale controller lock file .*holder unreadable for more than 15 s/);
      expect(readFileSync(`${path}.stale`, 'utf8')).toBe(garbage);
      await e.release();
      expect(existsSync(path)).toBe(false);
    }
  });

  it('a lock path that cannot be read as a file counts as unreadable, not as a crash', async () => {
    const { path, elector, age } = setup();
    mkdirSync(path);
    age(60_000);
    const e = elector();
    expect(await e.tryAcquire()).toBe(true);
    await e.release();
  });

  it('a live holder (our parent process) is named with pid, host and start time', async () => {
    const { path, elector } = setup();
    const startedAt = Date.now() - 3_600_000;
    writeFileSync(path, JSON.stringify({ pid: process.ppid, hostname: hostname(), startedAt, identity: 'other:1' }));
    const e = elector();
    expect(await e.tryAcquire()).toBe(false);
    expect(e.describeHolder()).toBe(`other:1 (pid ${process.ppid} on ${hostname()}, since ${new Date(startedAt).toISOString()}; lock file ${path})`);
  });

  it('a takeover guard whose writer died before writing it is cleared once older than the lease duration, not kept forever', async () => {
    const { path, elector, age } = setup();
    writeFileSync(path, '');
    age(60_000);
    const guard = `${path}.takeover`;
    writeFileSync(guard, '');
    const e = elector();
    // young: it may be a contender writing it right now
    expect(await e.tryAcquire()).toBe(false);
    expect(existsSync(guard)).toBe(true);
    const t = (Date.now() - 16_000) / 1000;
    utimesSync(guard, t, t);
    expect(await e.tryAcquire()).toBe(false);
    expect(existsSync(guard)).toBe(false);
    expect(await e.tryAcquire()).toBe(true);
    await e.release();
  });
});

describe('LockFileElector: a container restarted as pid 1 (one state folder across restarts)', () => {
  /** Each incarnation runs as pid 1 on the same host (host networking); only pid 1, itself, is alive in its namespace. */
  const incarnation = (path: string, startedAt: number) =>
    new LockFileElector({ path, identity: 'host:1', pid: 1, host: 'host', startedAt, isAlive: (pid) => pid === 1, unreadableStaleAfterMs: 15_000 });
  const guardOf = (startedAt: number) => `${JSON.stringify({ pid: 1, hostname: 'host', startedAt, identity: 'host:1' })}\n`;

  it('a takeover guard left by a previous incarnation killed mid-takeover is cleared, and the stale lock taken over', async () => {
    const { path } = setup();
    // incarnation 1 holds the lock and is killed (SIGKILL: no exit hook removes it)
    const first = incarnation(path, 1_000);
    expect(await first.tryAcquire()).toBe(true);
    // incarnation 2 found the lock stale, created the guard and was killed before it removed it
    writeFileSync(`${path}.takeover`, guardOf(2_000));
    // incarnation 3: the guard's pid is alive (it is its own), but the guard is a previous incarnation's
    const third = incarnation(path, 3_000);
    let acquired = false;
    for (let attempt = 0; attempt < 3 && !acquired; attempt++) acquired = await third.tryAcquire();
    expect(acquired).toBe(true);
    expect(existsSync(`${path}.takeover`)).toBe(false);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: 1, startedAt: 3_000 });
    await third.release();
    await first.release();
    expect(existsSync(path)).toBe(false);
  });

  it('a guard of a live contender on this host is left alone', async () => {
    const { path } = setup();
    const first = incarnation(path, 1_000);
    expect(await first.tryAcquire()).toBe(true);
    writeFileSync(`${path}.takeover`, `${JSON.stringify({ pid: 2, hostname: 'host', startedAt: 2_000, identity: 'host:2' })}\n`);
    // the lock's holder (pid 1) is gone for this contender, the guard's writer (pid 2) is not
    const other = new LockFileElector({ path, identity: 'host:3', pid: 3, host: 'host', startedAt: 3_000, isAlive: (pid) => pid === 2 });
    expect(await other.tryAcquire()).toBe(false);
    expect(await other.tryAcquire()).toBe(false);
    expect(existsSync(`${path}.takeover`)).toBe(true);
    await first.release();
  });
});
