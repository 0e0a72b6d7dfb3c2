import { describe, expect, it } from 'vitest';
import { actionSchema, defaultPlannerSettings, type Action, type GlobalSnapshot } from '../../src/model/index.js';
import { isCatchAllKillPattern } from '../../src/model/index.js';
import { compileAllowlist } from './allowlist.js';
import type { DegradeInput } from './input.js';
import { DEGRADE_KEY, planDegrade } from './plan.js';
import { degradePlannerSettingsFromConfig, parseKillAllowlist, readDegradePlannerSettings } from './settings.js';

const NOW = 1_800_000_000_000;
const ENTERED = NOW - 30_000;

const enterTransition = {
  id: `degrade-${ENTERED}`,
  to: 'degrade' as const,
  reason: 'MemoryPressureSustained',
  at: ENTERED,
  detail: { conditions: ['usedPct>=90'], values: { usedPct: 93.4, memAvailablePct: 6.6 } },
};

function input(over: Partial<DegradeInput> = {}): DegradeInput {
  return {
    mode: 'degrade',
    since: ENTERED,
    lastSample: { at: NOW - 1000, values: { usedPct: 93.4 }, breaches: ['usedPct>=90'], severe: [], warn: true, noSignal: false },
    lastTransition: enterTransition,
    workloads: [],
    processes: [],
    self: { pid: 4242, ppid: 4200 },
    ...over,
  };
}

function snapshot(pressure: unknown, opts: { global?: Record<string, unknown>; degrade?: unknown } = {}): GlobalSnapshot {
  const settings = { ...defaultPlannerSettings(), ...(opts.degrade ? { degrade: opts.degrade } : {}) };
  return { now: NOW, settings, boards: [], global: { degraded: false, firstRunAt: {}, ...opts.global }, pressure };
}

const ofType = <T extends Action['type']>(actions: Action[], type: T) =>
  actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);

const killOn = (allowlist: string[], extra: Record<string, unknown> = {}) => ({ kill: { enabled: true, allowlist, ...extra } });

const procs = [
  { pid: 1, command: '/sbin/init', exe: '/sbin/init', protectedReason: 'init' },
  { pid: 4242, command: 'node mc-controller run', exe: '/usr/bin/node', protectedReason: null },
  { pid: 4200, command: 'bash run.sh', exe: '/bin/bash', protectedReason: null },
  { pid: 300, command: 'openclaw-gateway', exe: '/usr/bin/node', protectedReason: 'gateway' },
  { pid: 501, command: '/tmp/puppeteer_dev_chrome_profile-x/chrome --headless', exe: '/opt/chrome/chrome', protectedReason: null },
  { pid: 502, command: 'node /home/openclaw/w/node_modules/.bin/vite build', exe: '/usr/bin/node', protectedReason: null },
  { pid: 503, command: 'postgres -D /var/lib/pg', exe: '/usr/lib/postgresql/bin/postgres', protectedReason: null },
];

/** names every process above (a bare `*` names nothing and is refused): protection must still exclude some */
const EVERY_FIXTURE_PROCESS = ['*init*', '*node*', '*bash*', '*openclaw*', '*chrome*', '*postgres*'];

describe('degrade planner', () => {
  it('plans nothing without a valid pressure reading', () => {
    expect(planDegrade(snapshot(undefined)).actions).toEqual([]);
    expect(planDegrade(snapshot({ mode: 'sideways' })).actions).toEqual([]);
  });

  it('on entering: kit-compatible state, one enter notice, scale-down of selected workloads; every action is valid', () => {
    const { actions } = planDegrade(
      snapshot(
        input({
          workloads: [
            { kind: 'Deployment', namespace: 'oc', name: 'browsers', replicas: 3, originalReplicas: null },
            { kind: 'StatefulSet', namespace: 'oc', name: 'cache', replicas: 2, originalReplicas: null, degradedReplicas: 1 },
            { kind: 'Deployment', namespace: 'oc', name: 'idle', replicas: 0, originalReplicas: null },
          ],
        }),
      ),
    );
    for (const a of actions) {
      expect(actionSchema.safeParse(a).success).toBe(true);
      expect(a.key).toBe(DEGRADE_KEY);
    }
    const [state] = ofType(actions, 'state.write');
    expect(state!.patch).toMatchObject({
      degraded: true,
      resource: { mode: 'degrade', entered_at_ms: ENTERED, updated_at_ms: NOW, load_pct: 93.4, reason: 'MemoryPressureSustained' },
    });
    const posts = ofType(actions, 'discord.post');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.purpose).toBe('resource');
    expect(posts[0]!.content).toMatch(/^🛑 Resource degrade mode ativado: RAM 93.4% \(>= 90%\)/);
    expect(posts[0]!.idempotencyKey).toBe(`degrade/notice/degrade-${ENTERED}`);
    const scales = ofType(actions, 'k8s.scale');
    expect(scales.map((s) => `${s.name}->${s.replicas}:${s.restore}`)).toEqual(['browsers->0:false', 'cache->1:false']);
    expect(ofType(actions, 'process.kill')).toEqual([]);
  });

  it('plans the same keys again until done, and nothing once state, ledger and workloads agree', () => {
    const pressure = input({ workloads: [{ kind: 'Deployment', namespace: 'oc', name: 'b', replicas: 3, originalReplicas: null }] });
    const first = planDegrade(snapshot(pressure)).actions.map((a) => a.idempotencyKey);
    expect(planDegrade(snapshot(pressure)).actions.map((a) => a.idempotencyKey)).toEqual(first);

    const settled = input({ workloads: [{ kind: 'Deployment', namespace: 'oc', name: 'b', replicas: 0, originalReplicas: 3 }] });
    const global = {
      degraded: true,
      resource: { mode: 'degrade', entered_at_ms: ENTERED, kill_count_total: 0 },
      ledger: { [`degrade/notice/degrade-${ENTERED}`]: { s: 'done', at: NOW - 20_000 } },
    };
    expect(planDegrade(snapshot(settled, { global })).actions).toEqual([]);
    // a failed notice (ledger says failed/pending) is planned again with the same key
    const failed = { ...global, ledger: { [`degrade/notice/degrade-${ENTERED}`]: { s: 'pending', at: NOW - 20_000 } } };
    expect(ofType(planDegrade(snapshot(settled, { global: failed })).actions, 'discord.post')).toHaveLength(1);
  });

  it('on leaving: normal state, one exit notice, restore only annotated workloads', () => {
    const left = NOW - 5_000;
    const pressure = input({
      mode: 'normal',
      since: left,
      lastTransition: { id: `normal-${left}`, to: 'normal', reason: 'MemoryPressureCleared', at: left, detail: { conditions: [], values: { usedPct: 61.2 } } },
      workloads: [
        { kind: 'Deployment', namespace: 'oc', name: 'browsers', replicas: 0, originalReplicas: 3 },
        { kind: 'Deployment', namespace: 'oc', name: 'untouched', replicas: 2, originalReplicas: null },
      ],
      processes: procs,
    });
    const { actions } = planDegrade(
      snapshot(pressure, { global: { degraded: true, resource: { mode: 'degrade', entered_at_ms: ENTERED } }, degrade: killOn(EVERY_FIXTURE_PROCESS) }),
    );
    const [state] = ofType(actions, 'state.write');
    expect(state!.patch).toMatchObject({ degraded: false, resource: { mode: 'normal', entered_at_ms: ENTERED, reason: 'MemoryPressureCleared' } });
    const posts = ofType(actions, 'discord.post');
    expect(posts.map((p) => p.content)).toEqual(['✅ Recover de recursos: RAM 61.2% (<= 85%). Retomando operação normal.']);
    expect(ofType(actions, 'k8s.scale')).toMatchObject([{ name: 'browsers', replicas: 3, restore: true }]);
    expect(ofType(actions, 'process.kill')).toEqual([]);
  });

  it('does not scale up a workload already below its degraded count', () => {
    const { actions } = planDegrade(
      snapshot(input({ workloads: [{ kind: 'Deployment', namespace: 'oc', name: 'w', replicas: 1, originalReplicas: null, degradedReplicas: 2 }] })),
    );
    expect(ofType(actions, 'k8s.scale')).toEqual([]);
  });

  describe('kill allowlist', () => {
    const hot = input({ lastSample: { at: NOW, values: { usedPct: 97 }, breaches: ['usedPct>=90'], severe: [], warn: true, noSignal: false }, processes: procs });

    it('is off by default: no kill even with matching processes', () => {
      expect(ofType(planDegrade(snapshot(hot)).actions, 'process.kill')).toEqual([]);
      // enabled but without patterns is still off
      expect(ofType(planDegrade(snapshot(hot, { degrade: killOn([]) })).actions, 'process.kill')).toEqual([]);
    });

    it('targets only allowlisted processes, never pid 1, self, parent or the gateway — even with patterns naming every process', () => {
      const only = planDegrade(snapshot(hot, { degrade: killOn(['/tmp/puppeteer*', 'node_modules/.bin/']) }));
      const [kill] = ofType(only.actions, 'process.kill');
      expect(kill!.targets.map((t) => t.pid)).toEqual([501, 502]);
      expect(kill!.graceMs).toBe(10_000);
      const all = planDegrade(snapshot(hot, { degrade: killOn(EVERY_FIXTURE_PROCESS) }));
      expect(ofType(all.actions, 'process.kill')[0]!.targets.map((t) => t.pid)).toEqual([501, 502, 503]);
      // the kill is recorded in the state for the cooldown
      expect(ofType(all.actions, 'state.write')[0]!.patch).toMatchObject({ resource: { last_kill_at_ms: NOW, kill_count_total: 1 } });
    });

    it('waits for the used % (MC_RESOURCE_KILL_PCT) or severe pressure', () => {
      const warm = input({ processes: procs });
      expect(ofType(planDegrade(snapshot(warm, { degrade: killOn(EVERY_FIXTURE_PROCESS) })).actions, 'process.kill')).toEqual([]);
      const severe = input({ processes: procs, lastSample: { at: NOW, values: { usedPct: 80 }, breaches: [], severe: ['oomEvent'] } });
      expect(ofType(planDegrade(snapshot(severe, { degrade: killOn(EVERY_FIXTURE_PROCESS) })).actions, 'process.kill')).toHaveLength(1);
    });

    it('at most once per cooldown, then requeues for when the cooldown ends', () => {
      const global = { resource: { mode: 'degrade', entered_at_ms: ENTERED, last_kill_at_ms: NOW - 10 * 60_000, kill_count_total: 1 } };
      const cooling = planDegrade(snapshot(hot, { global, degrade: killOn(EVERY_FIXTURE_PROCESS) }));
      expect(ofType(cooling.actions, 'process.kill')).toEqual([]);
      expect(cooling.requeueAfterMs).toBe(50 * 60_000);
      const later = { resource: { ...global.resource, last_kill_at_ms: NOW - 61 * 60_000 } };
      expect(ofType(planDegrade(snapshot(hot, { global: later, degrade: killOn(EVERY_FIXTURE_PROCESS) })).actions, 'process.kill')).toHaveLength(1);
    });

    it('never kills in normal mode', () => {
      const normal = { ...hot, mode: 'normal' as const, lastTransition: null };
      expect(ofType(planDegrade(snapshot(normal, { degrade: killOn(EVERY_FIXTURE_PROCESS) })).actions, 'process.kill')).toEqual([]);
    });

    it('a malformed degrade section falls back to kill OFF', () => {
      expect(ofType(planDegrade(snapshot(hot, { degrade: { kill: { enabled: 'yes', allowlist: '*' } } })).actions, 'process.kill')).toEqual([]);
    });
  });

  it.each([
    ['/tmp/puppeteer*', '/tmp/puppeteer_dev/chrome --headless', null, true],
    ['puppeteer', '/tmp/x/puppeteer-run', null, true],
    ['*/node_modules/.bin/*', 'node /w/node_modules/.bin/vite build', null, true],
    ['chrome', 'bash', '/opt/google/chrome/chrome', true],
    ['/opt/*/chrome', 'chrome --type=renderer', '/opt/google/chrome/chrome', true],
    ['vite', 'postgres -D /data', '/usr/bin/postgres', false],
    ['/tmp/puppeteer*', 'node /home/u/tmp/puppeteer.js', null, false],
    ['worker-[0-9]', 'worker-7 --x', null, true],
  ])('allowlist %s vs %s (exe %s) → %s', (pattern, command, exe, expected) => {
    expect(compileAllowlist([pattern])({ command, exe }) !== null).toBe(expected);
  });

  // The kit's glob on picomatch: each row pins one of its options (see allowlist.ts).
  it.each([
    ['/tmp/*', '/tmp/.cache/chrome --headless', true], // `*` crosses a leading dot (dot)
    ['*/.bin/*', 'node /w/node_modules/.bin/vite', true],
    ['/srv/app{1,2}*', '/srv/app1 --serve', false], // braces are literal (nobrace)
    ['/srv/app{1,2}*', '/srv/app{1,2} --serve', true],
    ['!(x)*', '!(x) run', true], // no extglob, no negation (noextglob, nonegate)
    ['!(x)*', 'y run', false],
    ['/bin/a(b|c)*', '/bin/abd', false], // parentheses and bars are literal too
    ['/bin/a(b|c)*', '/bin/a(b|c) --x', true],
    ['worker-[!0-9]*', 'worker-a run', true],
    ['worker-[!0-9]*', 'worker-7 run', false],
    ['/opt/a?b', '/opt/a/b', false], // `?` is one character other than `/`
  ])('kit glob %s vs %s → %s', (pattern, command, expected) => {
    expect(compileAllowlist([pattern])({ command, exe: null }) !== null).toBe(expected);
  });

  it.each(['*', '**', '*/*', '/', '*.*', '? *', '[a-z]*'])('a pattern that names nothing (%j) matches no process', (pattern) => {
    expect(isCatchAllKillPattern(pattern)).toBe(true);
    expect(compileAllowlist([pattern])({ command: '/usr/bin/node /srv/app.js', exe: '/usr/bin/node' })).toBeNull();
  });

  it.each(['/tmp/puppeteer*', 'chrome', '*/chromium*', 'worker-[0-9]'])('a pattern naming a command (%j) is kept', (pattern) => {
    expect(isCatchAllKillPattern(pattern)).toBe(false);
  });

  it('parses MC_RESOURCE_KILL_ALLOWLIST', () => {
    expect(parseKillAllowlist(' /tmp/puppeteer*, node_modules/.bin/* ;chrome\n')).toEqual(['/tmp/puppeteer*', 'node_modules/.bin/*', 'chrome']);
    expect(parseKillAllowlist(undefined)).toEqual([]);
  });

  it('maps the config section onto planner settings that survive the planner\'s own validation', () => {
    const mapped = degradePlannerSettingsFromConfig({ scaleReplicas: 1, kill: true, killAllowlist: ['/tmp/puppeteer*', 'a,b'], degradePct: 92, recoverPct: 80 });
    expect(readDegradePlannerSettings(mapped)).toEqual(mapped);
    expect(mapped.kill).toMatchObject({ enabled: true, allowlist: ['/tmp/puppeteer*', 'a', 'b'], minUsedPct: 95, cooldownMs: 3_600_000 });
    // the CLI's earlier shape (kill as a bare flag) must not arm the kill path
    expect(readDegradePlannerSettings({ scaleReplicas: 0, kill: true }).kill.enabled).toBe(false);
  });
});
