/**
 * Legacy S4 (`S4_cron_resource`), done properly: a host under memory pressure puts the controller in degrade mode
 * (kit state file `mode: degrade`), then the pressure goes away and it comes back to `normal` — with one notice
 * each way in the (fake) Discord channel, the selected workload scaled down and restored on the (fake) Kubernetes
 * API, and the allowlisted process killed only when applying, never when planning.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { defaultPlannerSettings, type Action, type GlobalSnapshot } from '../../src/model/index.js';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import { control } from '../../src/sandbox/testing/client.js';
import { startFakeKubernetes, type FakeKubernetes } from '../../src/sandbox/kubernetes/index.js';
import { DiscordClient } from '../../src/clients/discord/index.js';
import { KubernetesScaler } from '../../src/clients/kubernetes/scale.js';
import { GlobalStateFile } from '../../src/runtime/global-state.js';
import { Executor, ExecutionError, type Handlers } from '../../src/runtime/executor.js';
import { makeDiscordPostHandler } from '../../src/runtime/effects/discord-post.js';
import { makeKillHandler } from '../../src/runtime/effects/process-kill.js';
import { makeScaleHandler } from '../../src/runtime/effects/kubernetes-scale.js';
import { DegradeInputCache, DegradeMonitor, defaultDegradeSettings } from '../../src/runtime/degrade/index.js';
import { degradeReconciler } from '../../reconcilers/degrade/index.js';
import { EffectsDoor } from '../../src/runtime/effects/door.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/host/', import.meta.url));
const NS = 'openclaw';
const logger = pino({ level: 'silent' });
const tag = randomBytes(4).toString('hex');

let sandbox: SandboxHandle;
let k8s: FakeKubernetes;
let work: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
  k8s = await startFakeKubernetes();
  work = await mkdtemp(join(tmpdir(), 'mc-s4-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await sandbox?.close();
  await k8s?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

function idle(name: string): { child: ChildProcess; exited: Promise<unknown>; alive: () => boolean } {
  const child = spawn(process.execPath, ['-e', "process.stdout.write('up');setInterval(()=>{},1000)", name], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  const exited = new Promise((r) => child.once('exit', r));
  return { child, exited, alive: () => child.exitCode === null && child.signalCode === null };
}
const ready = (c: ChildProcess) => new Promise<void>((r) => c.stdout!.once('data', () => r()));

const setUsed = (root: string, pct: number) =>
  writeFile(join(root, 'proc/meminfo'), `MemTotal:       64000000 kB\nMemAvailable:   ${Math.round(64000000 * (1 - pct / 100))} kB\n`);

const types = (actions: Action[]) => actions.map((a) => a.type).sort();

describe('legacy S4: degrade, then back to normal', () => {
  it('runs the whole path: signal → monitor → planner → executor → Discord, Kubernetes, processes, state file', async () => {
    const root = join(work, 'host');
    await cp(join(FIXTURES, 'meminfo-only'), root, { recursive: true });
    k8s.addDeployment({ namespace: NS, name: 'browser-pool', replicas: 4, labels: { 'mc-degrade': 'shed' } });
    k8s.addDeployment({ namespace: NS, name: 'gateway', replicas: 1, labels: { 'mc-degrade': 'keep' } });
    const victim = idle(`mc-s4-allow-${tag}`);
    const bystander = idle(`mc-s4-keep-${tag}`);
    await Promise.all([ready(victim.child), ready(bystander.child)]);

    let now = Date.now();
    const monitor = new DegradeMonitor({ settings: defaultDegradeSettings(), logger, root, heap: false, now: () => now });
    const inputs = new DegradeInputCache({
      monitor,
      scale: { scaler: new KubernetesScaler(k8s.kubeConfig(NS)), targets: { namespace: NS, selector: 'mc-degrade=shed' } },
      kill: { root: '/' },
    });
    const state = new GlobalStateFile(join(work, 'state'), EffectsDoor.open());
    const settings = {
      ...defaultPlannerSettings(),
      degrade: { kill: { enabled: true, allowlist: [`*mc-s4-allow-${tag}*`], minUsedPct: 90, graceMs: 2_000 } },
    };
    const plan = async (): Promise<Action[]> => {
      await inputs.refresh();
      const snapshot: GlobalSnapshot = { now, settings, boards: [], global: { ...state.get() }, pressure: inputs.get() };
      return degradeReconciler.plan(snapshot).actions;
    };
    const executor = (discordUrl: string) => {
      const handlers: Handlers = {
        'discord.post': makeDiscordPostHandler({
          client: new DiscordClient({ token: sandbox.info.discordBotToken, apiUrl: discordUrl, postDeadlineMs: 1_000 }),
          channels: { resource: sandbox.info.discordChannelId },
        }),
        'k8s.scale': makeScaleHandler(new KubernetesScaler(k8s.kubeConfig(NS))),
        'process.kill': makeKillHandler({ door: EffectsDoor.open(), pollMs: 20 }),
      };
      // global actions never touch Mission Control or the board store
      return new Executor({ mc: {} as never, store: {} as never, handlers, globalState: state, logger });
    };
    const messages = async () => (await control<{ messages: { content: string }[] }>(sandbox.info, 'GET', '/discord/messages')).body.messages;
    const replicas = (name: string) => k8s.getWorkload('Deployment', NS, name)?.spec?.['replicas'];

    // calm host: the first pass writes the kit state file (`mode: normal`), then there is nothing to do
    await setUsed(root, 40);
    await monitor.sampleOnce();
    const first = await plan();
    expect(types(first)).toEqual(['state.write']);
    await executor(sandbox.info.discordApiUrl).apply(first, null, now);
    expect(JSON.parse(await readFile(state.path, 'utf8')).resource).toMatchObject({ mode: 'normal', load_pct: 40 });
    expect(await plan()).toEqual([]);

    // 93 % used for 10 s (5 samples) → degrade
    await setUsed(root, 93);
    for (let i = 0; i < 5; i++) {
      now += 2_000;
      await monitor.sampleOnce();
    }
    expect(monitor.current().mode).toBe('degrade');
    const entering = await plan();
    expect(types(entering)).toEqual(['discord.post', 'k8s.scale', 'process.kill', 'state.write']);

    // plan / dry-run: described, never applied — the kit's dry-run killed, ours does not
    const described = executor(sandbox.info.discordApiUrl).describe(entering, null, now);
    expect(described.find((e) => e.action === 'process.kill')?.summary).toContain(`kill ${victim.child.pid} (`);
    const [killAction] = entering.filter((a) => a.type === 'process.kill');
    expect(killAction).toMatchObject({ targets: [{ pid: victim.child.pid, command: expect.stringContaining(`mc-s4-allow-${tag}`) }] });
    await new Promise((r) => setTimeout(r, 200));
    expect(victim.alive()).toBe(true);
    expect(await messages()).toEqual([]);
    expect(replicas('browser-pool')).toBe(4);

    // apply while Discord is unreachable: the notice fails (and is kept pending), everything else lands
    const dead = 'http://127.0.0.1:9/api';
    const failure = await executor(dead).apply(entering, null, now).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ExecutionError);
    expect((failure as ExecutionError).entries.map((e) => `${e.action}:${e.outcome}`).sort()).toEqual([
      'discord.post:failed',
      'k8s.scale:applied',
      'process.kill:applied',
      'state.write:applied',
    ]);
    await victim.exited;
    expect(bystander.alive()).toBe(true);
    expect(replicas('browser-pool')).toBe(0);
    expect(replicas('gateway')).toBe(1);
    const kitState = JSON.parse(await readFile(state.path, 'utf8'));
    expect(kitState.degraded).toBe(true);
    expect(kitState.resource).toMatchObject({ mode: 'degrade', entered_at_ms: monitor.current().since, load_pct: 93, kill_count_total: 1 });

    // next pass: only the notice is still owed; it goes out once
    now += 2_000;
    await monitor.sampleOnce();
    const retry = await plan();
    expect(types(retry)).toEqual(['discord.post']);
    await executor(sandbox.info.discordApiUrl).apply(retry, null, now);
    now += 2_000;
    await monitor.sampleOnce();
    expect(await plan()).toEqual([]);
    expect((await messages()).map((m) => m.content)).toEqual([
      expect.stringMatching(/^🛑 Resource degrade mode ativado: RAM 93% \(>= 90%\)/),
    ]);

    // pressure gone: normal only after 60 s clear and 2 min in degrade
    await setUsed(root, 40);
    let samples = 0;
    while (monitor.current().mode === 'degrade' && samples < 200) {
      now += 2_000;
      samples++;
      await monitor.sampleOnce();
      if (monitor.current().mode === 'degrade') expect(await plan()).toEqual([]);
    }
    expect(monitor.current().mode).toBe('normal');
    expect(monitor.current().since - kitState.resource.entered_at_ms).toBeGreaterThanOrEqual(120_000);
    const leaving = await plan();
    expect(types(leaving)).toEqual(['discord.post', 'k8s.scale', 'state.write']);
    await executor(sandbox.info.discordApiUrl).apply(leaving, null, now);
    expect(await plan()).toEqual([]);

    expect(replicas('browser-pool')).toBe(4);
    const after = JSON.parse(await readFile(state.path, 'utf8'));
    expect(after.degraded).toBe(false);
    expect(after.resource).toMatchObject({ mode: 'normal', load_pct: 40, kill_count_total: 1 });
    expect((await messages()).map((m) => m.content)).toEqual([
      expect.stringMatching(/^🛑 Resource degrade mode ativado/),
      expect.stringMatching(/^✅ Recover de recursos: RAM 40% \(<= 85%\)\. Retomando operação normal\./),
    ]);
    expect(bystander.alive()).toBe(true);
  });

  it('with the kill allowlist off (the default) a matching process survives a degraded pass', async () => {
    const root = join(work, 'host-off');
    await cp(join(FIXTURES, 'meminfo-only'), root, { recursive: true });
    await setUsed(root, 99);
    const target = idle(`mc-s4-off-${tag}`);
    await ready(target.child);
    const monitor = new DegradeMonitor({ settings: defaultDegradeSettings(), logger, root, heap: false });
    await monitor.sampleOnce(); // 99 % used is severe: immediate entry
    expect(monitor.current().mode).toBe('degrade');
    const inputs = new DegradeInputCache({ monitor, kill: { root: '/' } });
    await inputs.refresh();
    expect(inputs.get().processes.some((p) => p.pid === target.child.pid)).toBe(true);
    const settings = { ...defaultPlannerSettings(), degrade: { kill: { allowlist: [`*mc-s4-off-${tag}*`] } } };
    const actions = degradeReconciler.plan({ now: Date.now(), settings, boards: [], global: { degraded: false, firstRunAt: {} }, pressure: inputs.get() }).actions;
    expect(actions.some((a) => a.type === 'process.kill')).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(target.alive()).toBe(true);
  });
});
