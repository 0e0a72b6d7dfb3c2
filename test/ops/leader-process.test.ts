/**
 * Leader election between real `mc-controller run` processes against one Mission Control sandbox:
 * a shared lock file, then the fake Kubernetes API as the Lease backend. Assertions are on world state
 * (the comments and statuses on the board) and on each process's /readyz role.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MissionControlClient } from '../../src/clients/mission-control/index.js';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import { startFakeKubernetes, type FakeKubernetes } from '../../src/sandbox/kubernetes/index.js';
import { CLI, runCli } from '../support/cli.js';

const MARKER = '[mc-controller]';

interface Controller {
  name: string;
  child: ChildProcess;
  /** resolve with the probe and metrics base URLs once the process logged them */
  probeUrl: Promise<string>;
  metricsUrl: Promise<string>;
  exited: Promise<number | null>;
  stderr: () => string;
}

let sandbox: SandboxHandle;
let mc: MissionControlClient;
let dir: string;
let baseEnv: Record<string, string>;
const running: Controller[] = [];

function startController(name: string, env: Record<string, string>): Controller {
  const child = spawn(process.execPath, [CLI, 'run'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CI: '1', ...baseEnv, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  let resolveProbe: (url: string) => void = () => undefined;
  let resolveMetrics: (url: string) => void = () => undefined;
  const probeUrl = new Promise<string>((resolve) => (resolveProbe = resolve));
  const metricsUrl = new Promise<string>((resolve) => (resolveMetrics = resolve));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    // pino JSON line: {"probes":"http://127.0.0.1:NNNN","metrics":"http://127.0.0.1:MMMM","msg":"probe and metrics servers listening"}
    const probe = /"probes":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(err);
    if (probe) resolveProbe(probe[1]!);
    const metrics = /"metrics":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(err);
    if (metrics) resolveMetrics(metrics[1]!);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const c = { name, child, probeUrl, metricsUrl, exited, stderr: () => err };
  running.push(c);
  return c;
}

async function stopAll(): Promise<void> {
  const all = running.splice(0);
  for (const c of all) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  await Promise.all(all.map((c) => c.exited));
}

/** Polls until `probe` returns a value, bounded; the message names what was awaited. */
async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function role(c: Controller): Promise<'leader' | 'standby' | 'down'> {
  try {
    const url = await Promise.race([c.probeUrl, new Promise<string>((_, rej) => setTimeout(() => rej(new Error('no probe url')), 100))]);
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
    return ((await res.json()) as { role: 'leader' | 'standby' }).role;
  } catch {
    return 'down';
  }
}

/** Actions this process applied (mc_actions_total{outcome="applied"} summed over action types). */
async function applied(c: Controller): Promise<number> {
  const text = await (await fetch(`${await c.metricsUrl}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('mc_actions_total{') && l.includes('outcome="applied"'))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function roles(cs: Controller[]): Promise<string[]> {
  return Promise.all(cs.map(role));
}

/** The one process that says `leader`, once exactly one does and every other says `standby`. */
async function soleLeader(cs: Controller[], timeoutMs = 20_000): Promise<Controller> {
  return until('exactly one leader', timeoutMs, async () => {
    const r = await roles(cs);
    return r.filter((x) => x === 'leader').length === 1 && r.every((x) => x !== 'down') ? cs[r.indexOf('leader')] : undefined;
  });
}

/** Work that makes the watchdog write: an in_progress task without a session key (grace 0 → review + one comment). */
async function newWork(title: string): Promise<string> {
  const task = await mc.createTask(sandbox.info.boardId, { title, status: 'in_progress' });
  return task.id;
}

async function mcWrites(): Promise<number> {
  const res = await fetch(`${sandbox.info.controlUrl}/stats`);
  return ((await res.json()) as { mc: { writes: number } }).mc.writes;
}

async function controllerComments(taskId: string): Promise<number> {
  const { items } = await mc.listComments(sandbox.info.boardId, taskId);
  return items.filter((c) => c.message.startsWith(MARKER)).length;
}

async function statusOf(taskId: string): Promise<string | undefined> {
  const { items } = await mc.listTasks(sandbox.info.boardId);
  return items.find((t) => t.id === taskId)?.status;
}

/**
 * The task was handled (moved to review with a comment) and, several resyncs later, still has exactly one
 * comment, and Mission Control saw exactly two writes since `writesBefore`: our create and one controller PATCH.
 */
async function expectHandledOnce(taskId: string, writesBefore: number): Promise<void> {
  await until(`watchdog comment on ${taskId}`, 20_000, async () => ((await controllerComments(taskId)) > 0 ? true : undefined));
  expect(await statusOf(taskId)).toBe('review');
  // Resync is 1 s: three more periods give a second writer every chance to show up.
  await new Promise((r) => setTimeout(r, 3_000));
  expect(await controllerComments(taskId)).toBe(1);
  expect((await mcWrites()) - writesBefore).toBe(2);
}

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
  mc = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken });
  dir = mkdtempSync(join(tmpdir(), 'mc-leader-'));
  baseEnv = {
    MC_API_URL: sandbox.info.mcApiUrl,
    MC_AUTH_TOKEN: sandbox.info.mcAuthToken,
    MC_BOARD_ID: sandbox.info.boardId,
    MC_WATCHDOG_SCOPE: 'all',
    MC_MISSING_KEY_GRACE_MINUTES: '0',
    MC_RESYNC_SECONDS: '1',
    MC_PROBE_ADDR: '127.0.0.1:0',
    MC_METRICS_ADDR: '127.0.0.1:0',
    MC_DRAIN_SECONDS: '2',
    MC_LOG_LEVEL: 'info',
  };
  // Fields exist before the race, so the processes' start-up bootstrap only reads.
  const boot = await runCli(['bootstrap'], baseEnv, { cwd: dir });
  expect(boot.code, boot.stderr).toBe(0);
});

afterEach(async () => {
  await stopAll();
});

afterAll(async () => {
  await stopAll();
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('two `run` processes sharing a lock file', () => {
  it('exactly one acts; SIGKILL of the leader lets the other take the stale lock and act on new work', { timeout: 90_000 }, async () => {
    const env = {
      MC_LEADER_ELECTION: 'lockfile',
      MC_LOCK_FILE: join(dir, 'lock', 'controller.lock'),
      MC_STATE_DIR: join(dir, 'state-lockfile'),
      MC_RETRY_PERIOD_SECONDS: '0.5',
    };
    const a = startController('a', env);
    const b = startController('b', env);
    const first = await soleLeader([a, b]);
    const other = first === a ? b : a;

    const before1 = await mcWrites();
    const task1 = await newWork('lock file: first work');
    await expectHandledOnce(task1, before1);
    expect(await roles([a, b])).toEqual(first === a ? ['leader', 'standby'] : ['standby', 'leader']);
    // The standby planned the same work (it reads everything) but applied nothing.
    expect(await applied(first)).toBeGreaterThan(0);
    expect(await applied(other)).toBe(0);

    first.child.kill('SIGKILL');
    await first.exited;
    const next = await soleLeader([other], 15_000);
    expect(next).toBe(other);
    // The dead leader's lock was moved aside as evidence, not deleted.
    expect(existsSync(`${env.MC_LOCK_FILE}.stale`)).toBe(true);
    const before2 = await mcWrites();
    const task2 = await newWork('lock file: after the leader died');
    await expectHandledOnce(task2, before2);
    expect(await applied(other)).toBeGreaterThan(0);
    expect(await controllerComments(task1)).toBe(1);
  });
});

describe('two `run` processes electing through a Lease on the fake Kubernetes API', () => {
  let k8s: FakeKubernetes;
  let kubeconfig: string;

  beforeAll(async () => {
    k8s = await startFakeKubernetes();
    kubeconfig = writeKubeconfig(join(dir, 'kubeconfig.yaml'), k8s, 'mc-system');
  });
  afterAll(async () => {
    await k8s?.close();
  });

  const leaseEnv = (lease: { duration: string; renew: string }, name: string) => ({
    MC_LEADER_ELECTION: 'lease',
    KUBECONFIG: kubeconfig,
    MC_LEASE_NAME: name,
    MC_LEASE_DURATION_SECONDS: lease.duration,
    MC_RENEW_DEADLINE_SECONDS: lease.renew,
    MC_RETRY_PERIOD_SECONDS: '0.5',
    MC_STATE_DIR: join(dir, `state-${name}`),
  });

  it('exactly one acts; SIGKILL of the leader hands over within the lease duration', { timeout: 90_000 }, async () => {
    const env = leaseEnv({ duration: '2', renew: '1.5' }, 'kill-test');
    const a = startController('a', env);
    const b = startController('b', env);
    const first = await soleLeader([a, b]);
    const other = first === a ? b : a;
    const holder = k8s.getLease('mc-system', 'kill-test') as { spec?: { holderIdentity?: string } } | undefined;
    expect(holder?.spec?.holderIdentity).toContain(String(first.child.pid));

    const before1 = await mcWrites();
    const task1 = await newWork('lease: first work');
    await expectHandledOnce(task1, before1);
    expect(await applied(first)).toBeGreaterThan(0);
    expect(await applied(other)).toBe(0);

    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;
    await soleLeader([other], 15_000);
    const handoverMs = Date.now() - killedAt;
    // leaseDuration 2 s + retry 0.5 s, with room for a loaded machine (the /readyz poll adds ≤ 0.1 s).
    expect(handoverMs).toBeLessThan(2_000 + 500 + 4_000);
    console.info(`lease handover after SIGKILL: ${handoverMs} ms`);
    const before2 = await mcWrites();
    const task2 = await newWork('lease: after the leader died');
    await expectHandledOnce(task2, before2);
    expect(await applied(other)).toBeGreaterThan(0);
  });

  it('SIGTERM of the leader releases the Lease: the standby takes over well before it would expire', { timeout: 90_000 }, async () => {
    // A long lease: a takeover before 10 s can only come from the release.
    const env = leaseEnv({ duration: '10', renew: '5' }, 'term-test');
    const a = startController('a', env);
    const b = startController('b', env);
    const first = await soleLeader([a, b]);
    const other = first === a ? b : a;

    first.child.kill('SIGTERM');
    const termAt = Date.now();
    expect(await first.exited).toBe(0);
    await soleLeader([other], 15_000);
    const handoverMs = Date.now() - termAt;
    expect(handoverMs).toBeLessThan(5_000);
    console.info(`lease handover after SIGTERM: ${handoverMs} ms`);
    const writesBefore = await mcWrites();
    const task = await newWork('lease: after a graceful shutdown');
    await expectHandledOnce(task, writesBefore);
  });
});
