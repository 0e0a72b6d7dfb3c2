import { mkdtemp, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { hasHostSignal, readPressure } from './index.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/host/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
const KiB = 1024;

describe('node-pressure reader on fixture trees', () => {
  const temps: string[] = [];
  afterEach(async () => {
    await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  const copy = async (name: string): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'mc-host-'));
    temps.push(dir);
    await cp(fixture(name), dir, { recursive: true });
    return dir;
  };

  it('PSI host: system PSI and meminfo, no cgroup limit', async () => {
    const s = await readPressure({ root: fixture('psi-host'), heap: false, now: () => 5 });
    expect(s.at).toBe(5);
    expect(s.psi).toEqual({
      source: 'system',
      some: { avg10: 1.25, avg60: 0.8, avg300: 0.4, total: 123456789 },
      full: { avg10: 0.1, avg60: 0.05, avg300: 0.01, total: 2345678 },
    });
    expect(s.cgroup).toBeNull();
    expect(s.meminfo).toEqual({ totalBytes: 16314368 * KiB, availableBytes: 9788620 * KiB });
    expect(s.heap).toBeNull();
    expect(s.problems).toEqual([]);
  });

  it("cgroup v2 container: own cgroup's current/max/events/pressure/stat win over system PSI", async () => {
    const s = await readPressure({ root: fixture('cgroup2-container'), heap: false });
    expect(s.cgroup).toEqual({
      version: 2,
      dir: 'sys/fs/cgroup',
      currentBytes: 402653184,
      limitBytes: 1073741824,
      highBytes: null,
      inactiveFileBytes: 60000000,
      events: { max: 3, high: 0, oom: 0, oomKill: 0 },
    });
    expect(s.psi?.source).toBe('cgroup');
    expect(s.psi?.some.avg10).toBe(0.5);
    expect(s.meminfo?.totalBytes).toBe(65536000 * KiB);
  });

  it('cgroup v2 on a host: finds the own cgroup below the mount from /proc/self/cgroup', async () => {
    const root = await copy('psi-host');
    const dir = join(root, 'sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope');
    await cp(fixture('cgroup2-container/sys/fs/cgroup'), dir, { recursive: true });
    await writeFile(join(dir, 'memory.max'), 'max\n');
    const s = await readPressure({ root, heap: false });
    expect(s.cgroup?.dir).toBe('sys/fs/cgroup/user.slice/user-1000.slice/session-2.scope');
    expect(s.cgroup?.limitBytes).toBeNull();
    expect(s.psi?.source).toBe('cgroup');
  });

  it('cgroup v1 container: usage/limit, failcnt and oom_kill, total_inactive_file; system PSI absent', async () => {
    const s = await readPressure({ root: fixture('cgroup1-container'), heap: false });
    expect(s.cgroup).toEqual({
      version: 1,
      dir: 'sys/fs/cgroup/memory',
      currentBytes: 805306368,
      limitBytes: 1073741824,
      highBytes: null,
      inactiveFileBytes: 80000000,
      events: { max: 0, high: 0, oom: 0, oomKill: 0 },
    });
    expect(s.psi).toBeNull();
  });

  it('cgroup v1 with the "unlimited" sentinel reports no limit', async () => {
    const root = await copy('cgroup1-container');
    await writeFile(join(root, 'sys/fs/cgroup/memory/memory.limit_in_bytes'), '9223372036854771712\n');
    expect((await readPressure({ root, heap: false })).cgroup?.limitBytes).toBeNull();
  });

  it('meminfo-only host', async () => {
    const s = await readPressure({ root: fixture('meminfo-only'), heap: false });
    expect(s.psi).toBeNull();
    expect(s.cgroup).toBeNull();
    expect(s.meminfo).toEqual({ totalBytes: 8000000 * KiB, availableBytes: 2000000 * KiB });
    expect(hasHostSignal(s)).toBe(true);
  });

  it('an empty root is "no signal", not an error; the heap is still read', async () => {
    const root = await copy('meminfo-only');
    await rm(join(root, 'proc'), { recursive: true });
    const s = await readPressure({ root });
    expect(hasHostSignal(s)).toBe(false);
    expect(s.heap!.usedBytes).toBeGreaterThan(0);
    expect(s.heap!.limitBytes).toBeGreaterThan(s.heap!.usedBytes);
  });

  it('malformed files are skipped with a problem line each', async () => {
    const root = await copy('cgroup2-container');
    await writeFile(join(root, 'sys/fs/cgroup/memory.pressure'), 'garbage\n');
    await writeFile(join(root, 'proc/pressure/memory'), 'some avg10=x\n');
    await writeFile(join(root, 'proc/meminfo'), 'nothing useful\n');
    await writeFile(join(root, 'sys/fs/cgroup/memory.max'), 'lots\n');
    const s = await readPressure({ root, heap: false });
    expect(s.psi).toBeNull();
    expect(s.meminfo).toBeNull();
    expect(s.cgroup?.currentBytes).toBe(402653184);
    expect(s.cgroup?.limitBytes).toBeNull();
    expect(s.problems).toHaveLength(4);
  });

  it('reads the real host without throwing', async () => {
    const s = await readPressure();
    expect(s.problems).toEqual([]);
    expect(s.meminfo === null || s.meminfo.totalBytes > 0).toBe(true);
  });
});
