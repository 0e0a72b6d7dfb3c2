import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startFakeKubernetes } from '../../sandbox/kubernetes/index.js';
import { makeNodeMemoryPressureReader } from '../../clients/kubernetes/node-memory-pressure.js';
import { DegradeMonitor } from './monitor.js';
import { defaultDegradeSettings } from './settings.js';
import type { Transition } from './hysteresis.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/host/', import.meta.url));
const logger = pino({ level: 'silent' });
const temps: string[] = [];
afterEach(async () => {
  await Promise.all(temps.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function host(name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mc-degrade-'));
  temps.push(dir);
  await cp(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

const setUsed = (root: string, pct: number) =>
  writeFile(join(root, 'proc/meminfo'), `MemTotal:       64000000 kB\nMemAvailable:   ${Math.round(64000000 * (1 - pct / 100))} kB\n`);

describe('DegradeMonitor', () => {
  it('samples a host tree through enter and exit with a controlled clock', async () => {
    const root = await host('meminfo-only');
    let now = 1_000_000;
    const seen: Transition[] = [];
    const monitor = new DegradeMonitor({
      settings: defaultDegradeSettings(),
      logger,
      root,
      heap: false,
      now: () => now,
      onTransition: (t, status) => {
        expect(status.mode).toBe(t.to);
        seen.push(t);
      },
    });
    await setUsed(root, 93);
    for (let i = 0; i < 5; i++, now += 2_000) await monitor.sampleOnce();
    expect(monitor.current()).toMatchObject({ mode: 'degrade', since: 1_008_000 });
    expect(monitor.current().lastSample?.values.usedPct).toBe(93);
    await setUsed(root, 40);
    for (let i = 0; i < 70; i++, now += 2_000) await monitor.sampleOnce();
    expect(seen.map((t) => [t.to, t.reason])).toEqual([
      ['degrade', 'MemoryPressureSustained'],
      ['normal', 'MemoryPressureCleared'],
    ]);
    expect(monitor.current().lastTransition?.to).toBe('normal');
  });

  it('resumes a restored mode and a host without signals stays put', async () => {
    const root = await host('meminfo-only');
    await rm(join(root, 'proc'), { recursive: true });
    const monitor = new DegradeMonitor({ settings: defaultDegradeSettings(), logger, root, heap: false, restored: { mode: 'degrade', since: 5 } });
    const status = await monitor.sampleOnce();
    expect(status).toMatchObject({ mode: 'degrade', since: 5, lastSample: { noSignal: true } });
  });

  it('start() samples on its timer and stop() leaves nothing running', async () => {
    const root = await host('cgroup2-container');
    const s = { ...defaultDegradeSettings(), sampleIntervalMs: 10, enterDwellMs: 10 };
    // the clock is read once per sample (and once at construction), so it doubles as a sample counter
    let samples = -1;
    const monitor = new DegradeMonitor({ settings: s, logger, root, heap: false, now: () => ++samples });
    monitor.start();
    monitor.start(); // idempotent
    await new Promise((r) => setTimeout(r, 150));
    await monitor.stop();
    const after = samples;
    expect(after).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 80));
    expect(samples).toBe(after);
    expect(monitor.current().lastSample?.values.headroomPct).toBeCloseTo(68.09, 1);
  });

  it("enters on the Kubernetes Node's MemoryPressure condition (sustained evidence)", async () => {
    const k8s = await startFakeKubernetes();
    try {
      k8s.addNode('worker-1');
      const root = await host('cgroup2-container');
      let now = 0;
      const monitor = new DegradeMonitor({
        settings: defaultDegradeSettings(),
        logger,
        root,
        heap: false,
        now: () => now,
        nodeReadIntervalMs: 0,
        readNodeMemoryPressure: makeNodeMemoryPressureReader(k8s.kubeConfig(), 'worker-1'),
      });
      for (let i = 0; i < 6; i++, now += 2_000) await monitor.sampleOnce();
      expect(monitor.current().mode).toBe('normal');
      k8s.setMemoryPressure('worker-1', true);
      for (let i = 0; i < 5; i++, now += 2_000) await monitor.sampleOnce();
      expect(monitor.current().mode).toBe('degrade');
      expect(monitor.current().lastTransition?.detail.conditions).toEqual(['nodeMemoryPressure']);
    } finally {
      await k8s.close();
    }
  });

  it('refuses settings that cannot work', () => {
    const s = defaultDegradeSettings();
    s.exit.usedPct = 99;
    expect(() => new DegradeMonitor({ settings: s, logger })).toThrow(/RECOVER_PCT/);
  });
});
