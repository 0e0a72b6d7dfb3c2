import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedEnv, startEmbedded, type Embedded } from '../../src/cli/embedded.js';
import { boardRules, fieldProblems } from '../../src/cli/doctor/mission-control.js';
import { renderDoctor } from '../../src/cli/doctor/render.js';
import { configSchema } from '../../src/config/schema.js';
import { DESIRED_FIELDS, type Board, type FieldDefinition } from '../../src/model/index.js';
import { startFakeKubernetes } from '../../src/sandbox/kubernetes/index.js';
import { writeKubeconfig } from '../support/kubeconfig.js';
import { runCli, type CliResult } from '../support/cli.js';

interface Check {
  name: string;
  ok: boolean;
  skipped?: boolean;
  warning?: boolean;
  detail: string;
  hint?: string;
}

let embedded: Embedded;
let env: Record<string, string>;
let dir: string;

const control = async (path: string) => (await (await fetch(`${embedded.info.controlUrl}${path}`)).json()) as Record<string, unknown>;
const mcWrites = async () => ((await control('/stats')) as { mc: { writes: number } }).mc.writes;
const discordPosts = async () => ((await control('/discord/messages')) as { messages: unknown[] }).messages.length;

async function doctor(overrides: Record<string, string | undefined> = {}, args: string[] = ['--json']): Promise<CliResult> {
  return runCli(['doctor', ...args], { ...env, ...overrides }, { cwd: dir, timeoutMs: 30_000 });
}

function checks(r: CliResult): Check[] {
  const report = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
  expect(report.ok).toBe(report.checks.every((c) => c.ok));
  return report.checks;
}

const named = (all: Check[], prefix: string) => all.filter((c) => c.name.startsWith(prefix));

/** No secret of the deployment (nor a wrong one we passed) may appear in anything the doctor prints. */
function expectNoSecrets(r: CliResult, extra: string[] = []): void {
  for (const secret of [embedded.info.mcAuthToken, embedded.info.gatewayToken, embedded.info.discordBotToken, ...extra]) {
    expect(r.stdout).not.toContain(secret);
    expect(r.stderr).not.toContain(secret);
  }
}

beforeAll(async () => {
  embedded = await startEmbedded({ seed: 'demo' });
  dir = mkdtempSync(join(tmpdir(), 'mc-doctor-'));
  env = { ...embeddedEnv(embedded.info), MC_STATE_DIR: join(dir, 'state') };
});

afterAll(async () => {
  await embedded?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('mc-controller doctor against the embedded sandbox', () => {
  it('before bootstrap: exit 1, the custom-fields check fails with the bootstrap hint, and nothing is written', async () => {
    const writes = await mcWrites();
    const posts = await discordPosts();
    const r = await doctor();
    expect(r.code, r.stderr).toBe(1);
    const all = checks(r);
    const [fields] = named(all, 'custom fields');
    expect(fields).toMatchObject({ ok: false });
    expect(fields!.detail).toContain('mc_conditions');
    expect(fields!.hint).toContain('mc-controller bootstrap');
    // Everything else is healthy: the failure is the fields alone.
    expect(all.filter((c) => !c.ok).map((c) => c.name)).toEqual(['custom fields']);
    expect(await mcWrites()).toBe(writes);
    expect(await discordPosts()).toBe(posts);
    expectNoSecrets(r);

    const text = await doctor({}, []);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^✗ custom fields .*mc_conditions/m);
    expect(text.stdout).toMatch(/→ run `mc-controller bootstrap`/);
  });

  it('after bootstrap: exit 0 with every check passing, text output all ✓', async () => {
    const boot = await runCli(['bootstrap', '--json'], env, { cwd: dir });
    expect(boot.code, boot.stderr).toBe(0);
    const r = await doctor();
    expect(r.code, r.stdout).toBe(0);
    const all = checks(r);
    expect(all.every((c) => c.ok)).toBe(true);
    // Only the Kubernetes Node signal is off here (no MC_NODE_NAME outside a cluster).
    expect(all.filter((c) => c.skipped).map((c) => c.name)).toEqual(['node memory pressure']);
    expect(all.map((c) => c.name)).toEqual(
      expect.arrayContaining(['config', 'mission control', 'boards', 'custom fields', 'gateway', 'gateway sessions', 'memory signal', 'leader']),
    );
    expect(named(all, 'board rules')).toHaveLength(1);
    expect(named(all, 'discord')).toHaveLength(1);
    expect(named(all, 'gateway')[0]!.detail).toMatch(/protocol \d.*operator\.admin/);

    const text = await doctor({}, []);
    expect(text.code).toBe(0);
    const lines = text.stdout.split('\n').filter((l) => /^[✓✗!–] /.test(l));
    expect(lines.length).toBe(all.length);
    expect(lines.filter((l) => !l.startsWith('✓ '))).toEqual([expect.stringMatching(/^– node memory pressure /)]);
    expectNoSecrets(text);
  });

});

// Independent read-only runs over the bootstrapped board (sequential: parallel CLI starts only compete for CPU).
describe('mc-controller doctor failure modes', () => {
  it('a wrong Discord channel fails the Discord check with a channel hint', async () => {
    const r = await doctor({ MC_DISCORD_CHANNEL: '123456789012345678' });
    expect(r.code).toBe(1);
    const [discord] = named(checks(r), 'discord');
    expect(discord).toMatchObject({ ok: false });
    expect(discord!.detail).toContain('123456789012345678');
    expect(discord!.hint).toMatch(/channel id/);
  });

  it('a wrong gateway token fails the gateway check with a clear detail and never prints either token', async () => {
    const wrong = 'wrong-gateway-token-0123456789abcdef';
    const r = await doctor({ MC_GATEWAY_TOKEN: wrong });
    expect(r.code).toBe(1);
    const all = checks(r);
    const [gateway] = named(all, 'gateway');
    expect(gateway).toMatchObject({ ok: false });
    expect(gateway!.detail).toMatch(/AUTH_TOKEN_MISMATCH/);
    expect(gateway!.hint).toMatch(/MC_GATEWAY_TOKEN/);
    expect(named(all, 'gateway sessions')[0]).toMatchObject({ skipped: true });
    expectNoSecrets(r, [wrong]);
  });

  it('a refused Mission Control token fails with the MC_AUTH_TOKEN hint and skips the board checks', async () => {
    const wrong = 'wrong-mission-control-token-0123456789';
    const r = await doctor({ MC_AUTH_TOKEN: wrong });
    expect(r.code).toBe(1);
    const all = checks(r);
    expect(named(all, 'mission control')[0]).toMatchObject({ ok: false });
    expect(named(all, 'mission control')[0]!.hint).toMatch(/MC_AUTH_TOKEN/);
    expect(named(all, 'boards')[0]).toMatchObject({ skipped: true });
    expectNoSecrets(r, [wrong]);
  });

  it('unconfigured optional peers are skipped, not failed', async () => {
    const r = await doctor({ MC_GATEWAY_URL: undefined, MC_GATEWAY_TOKEN: undefined, DISCORD_BOT_TOKEN: undefined });
    expect(r.code, r.stdout).toBe(0);
    const all = checks(r);
    expect(named(all, 'gateway').every((c) => c.skipped)).toBe(true);
    expect(named(all, 'discord').every((c) => c.skipped)).toBe(true);
  });

  it('warnings keep exit 0: the done gate against MC_DONE_ON_SESSION_END, a node name outside a cluster', async () => {
    const r = await doctor({ MC_DONE_ON_SESSION_END: 'true', MC_NODE_NAME: 'worker-1' });
    expect(r.code).toBe(0);
    const all = checks(r);
    expect(named(all, 'node memory pressure')[0]).toMatchObject({ ok: true, warning: true });
    const [rules] = named(all, 'board rules');
    expect(rules).toMatchObject({ ok: true, warning: true });
    expect(rules!.detail).toMatch(/require_approval_for_done/);
    expect(rules!.hint).toMatch(/MC_DONE_ON_SESSION_END/);
  });

  it('invalid configuration exits 2 like every command', async () => {
    const r = await doctor({ MC_RESYNC_SECONDS: 'soon' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MC_RESYNC_SECONDS/);
  });
});

describe('doctor leader check', () => {
  it('reads a lock file held by a live process without touching it', async () => {
    const lockFile = join(dir, 'held.lock');
    writeFileSync(lockFile, `${JSON.stringify({ pid: process.pid, hostname: (await import('node:os')).hostname(), startedAt: Date.now(), identity: 'test-holder' })}\n`);
    const r = await doctor({ MC_LEADER_ELECTION: 'lockfile', MC_LOCK_FILE: lockFile });
    const [leader] = named(checks(r), 'leader');
    expect(leader).toMatchObject({ ok: true });
    expect(leader!.detail).toContain('held by test-holder');
  });

  it('reads the Lease through KUBECONFIG in lease mode, free and then held', async () => {
    const k8s = await startFakeKubernetes();
    try {
      const kubeconfig = writeKubeconfig(join(dir, 'doctor-kubeconfig.yaml'), k8s, 'ops');
      const env = { MC_LEADER_ELECTION: 'lease', KUBECONFIG: kubeconfig };
      const free = named(checks(await doctor(env)), 'leader')[0]!;
      expect(free).toMatchObject({ ok: true });
      expect(free.detail).toMatch(/Lease ops\/mc-controller: free/);
      k8s.putLease('ops', 'mc-controller', {
        holderIdentity: 'pod-a',
        leaseDurationSeconds: 15,
        renewTime: new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
        leaseTransitions: 3,
      });
      const held = named(checks(await doctor(env)), 'leader')[0]!;
      expect(held).toMatchObject({ ok: true });
      expect(held.warning).toBeUndefined();
      expect(held.detail).toMatch(/held by pod-a.*3 transition/);
      expect(k8s.requests.every((q) => q.method === 'GET')).toBe(true);
    } finally {
      await k8s.close();
    }
  });
});

describe('doctor pure parts', () => {
  const board = (over: Partial<Board> = {}): Board => ({
    id: 'b1',
    name: 'Ops',
    gatewayId: null,
    requireApprovalForDone: true,
    requireReviewBeforeDone: false,
    blockStatusChangesWithPendingApproval: false,
    commentRequiredForReview: false,
    updatedAt: 0,
    ...over,
  });
  const defs = (): FieldDefinition[] =>
    DESIRED_FIELDS.map((f, i) => ({
      id: `f${i}`,
      fieldKey: f.fieldKey,
      label: f.label,
      fieldType: f.fieldType,
      uiVisibility: f.uiVisibility,
      required: false,
      defaultValue: f.defaultValue,
      description: f.description,
      boardIds: ['b1'],
    }));

  it('fieldProblems names missing, retyped, unbound and required fields', () => {
    expect(fieldProblems(defs(), ['b1'])).toEqual([]);
    const drifted = defs();
    drifted[0] = { ...drifted[0]!, fieldType: 'integer' };
    drifted[1] = { ...drifted[1]!, required: true };
    drifted.pop();
    const problems = fieldProblems(drifted, ['b1', 'b2']).join('\n');
    expect(problems).toContain(`missing: ${DESIRED_FIELDS.at(-1)!.fieldKey}`);
    expect(problems).toContain(`${DESIRED_FIELDS[0]!.fieldKey} is integer, needs ${DESIRED_FIELDS[0]!.fieldType}`);
    expect(problems).toContain(`${DESIRED_FIELDS[1]!.fieldKey} is required`);
    expect(problems).toContain('not bound to board b2');
  });

  it('boardRules warns only when a setting cannot take effect', () => {
    const config = configSchema.parse({ mc: {}, gateway: {}, discord: {}, loop: { stateDir: '/var/lib/mc-controller' }, watchdog: {}, delivery: {}, degrade: {}, ops: {} });
    expect(boardRules(board(), config)).toMatchObject({ ok: true });
    expect(boardRules(board(), config).warning).toBeUndefined();
    const doneOn = { ...config, watchdog: { ...config.watchdog, doneOnSessionEnd: true } };
    expect(boardRules(board(), doneOn)).toMatchObject({ ok: true, warning: true });
    expect(boardRules(board({ requireApprovalForDone: false }), doneOn).warning).toBeUndefined();
    expect(boardRules(board({ blockStatusChangesWithPendingApproval: true }), config).detail).toMatch(/pending/);
  });

  it('renderDoctor marks each line and puts hints only under failures and warnings', () => {
    const text = renderDoctor({
      ok: false,
      checks: [
        { name: 'a', ok: true, detail: 'fine', hint: 'unused' },
        { name: 'b', ok: false, detail: 'broken', hint: 'fix b' },
        { name: 'c', ok: true, skipped: true, detail: 'off' },
        { name: 'd', ok: true, warning: true, detail: 'meh', hint: 'know d' },
      ],
    });
    expect(text).toMatch(/^✓ a  fine$/m);
    expect(text).toMatch(/^✗ b  broken\n\s+→ fix b$/m);
    expect(text).toMatch(/^– c  off$/m);
    expect(text).toMatch(/^! d  meh\n\s+→ know d$/m);
    expect(text).not.toContain('unused');
    expect(text).toMatch(/2 passed, 1 failed, 1 skipped, 1 with a warning/);
  });
});

