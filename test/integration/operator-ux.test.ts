/**
 * The operator's first hour (issue 14), through the built CLI spawned as a process against the sandbox:
 * the demo and its env file, output a person can read, and commands that do what the docs say.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedEnv, startEmbedded, type Embedded } from '../../src/cli/embedded.js';
import { jsonLines, parseExports, runCli } from '../support/cli.js';
import { Child } from './harness/child.js';
import { World } from './harness/world.js';

/** Resolves once `pred` holds for the child's stderr (bounded). */
async function stderrMatches(child: Child, pred: RegExp, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred.test(child.stderr)) {
    if (!child.running) throw new Error(`exited (code ${child.exitCode}) before ${pred}:\n${child.stderrTail()}`);
    if (Date.now() > deadline) throw new Error(`no ${pred} within ${timeoutMs} ms:\n${child.stderrTail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const fresh = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

describe('npm start: a demo that behaves like production and says how to look at it', () => {
  let cwd: string;
  let demo: Child;

  beforeAll(async () => {
    cwd = fresh('mc-demo-');
    // exactly what `npm start` runs, in a directory of its own (the env file lands in ./.mc-controller)
    demo = new Child(['run', '--sandbox-when-unconfigured'], { MC_LOG_FORMAT: 'json' }, { cwd });
    await stderrMatches(demo, /watching 1 board; next resync in \d+ s/);
  }, 40_000);

  afterAll(async () => {
    await demo.stop();
  });

  it('prints the settings it changes from the production defaults', () => {
    expect(demo.stderr).toMatch(/demo settings \(not the production defaults\): MC_WATCHDOG_SCOPE=all \(default linked\), MC_DELIVERY_BACKLOG=deliver \(default skip\)/);
  });

  it('writes an owner-only env file, prints how to use it, and `plan` from it sees the demo board', async () => {
    const file = join(cwd, '.mc-controller/sandbox.env');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(demo.stderr).toContain('source .mc-controller/sandbox.env && npx mc-controller plan');
    const env = parseExports(readFileSync(file, 'utf8'));
    expect(Object.keys(env)).toEqual(expect.arrayContaining(['MC_API_URL', 'MC_AUTH_TOKEN', 'MC_BOARD_ID', 'MC_GATEWAY_URL', 'MC_WATCHDOG_SCOPE']));
    // the token is in the file, never on the terminal
    expect(demo.stderr).not.toContain(env.MC_AUTH_TOKEN);
    // with the demo's own settings the plan sees the board the demo left: nothing more to do
    const plan = await runCli(['plan'], env, { cwd });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^No changes: the board matches the desired state\./);
  });

  it('the "change a session" hint carries the demo session\'s real key, and the command works as printed', async () => {
    const m = /curl -s -X PUT (\S+) -d '(\{[^']*\})'/.exec(demo.stderr);
    expect(m, demo.stderr).not.toBeNull();
    expect(m![1]).toContain('/sessions/agent:luan:subagent:demo-billing-export');
    // curl -d sends a form content type; the control API must still take the JSON body
    const res = await fetch(m![1]!, { method: 'PUT', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: m![2] });
    expect(res.status).toBe(200);
  });

  it('logs each action with the task title, then says it is waiting', () => {
    const lines = demo.stderr.split('\n').filter((l) => l.startsWith('{'));
    const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
    expect(msgs.some((m) => /^watching 1 board; next resync in (2[7-9]|3[0-3]) s$/.test(m))).toBe(true);
    expect(msgs.some((m) => m.startsWith('"Summarise customer interviews" (') && m.includes('task.patch: in_progress for 60 min without mc_session_key'))).toBe(true);
  });
});

describe('against a sandbox', () => {
  let embedded: Embedded;
  let world: World;
  let env: Record<string, string>;
  let cwd: string;

  beforeAll(async () => {
    embedded = await startEmbedded({ seed: 'demo' });
    world = new World(embedded.info);
    cwd = fresh('mc-ux-');
    env = {
      ...embeddedEnv(embedded.info),
      MC_STATE_DIR: join(cwd, 'state'),
      MC_LEADER_ELECTION: 'none',
    };
  });

  afterAll(async () => {
    await embedded.close();
  });

  it('plan before bootstrap shows the missing field and every action `once` then applies, each task named by title', async () => {
    // without auto-bootstrap, run would not add the field: the plan says what is missing and how to add it
    const manual = await runCli(['plan'], { ...env, MC_AUTO_BOOTSTRAP: '0' }, { cwd });
    expect(manual.stdout).toMatch(/field\/mc_conditions\s+bootstrap\s+field\.create\s+mc_conditions missing; run `mc-controller bootstrap`/);
    expect(manual.stdout).toMatch(/MC_AUTO_BOOTSTRAP is off, run `mc-controller bootstrap`/);
    expect(manual.stdout).not.toMatch(/approvals\s+discord\.post/);
    const plan = await runCli(['plan'], env, { cwd });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/field\/mc_conditions\s+bootstrap\s+field\.create\s+mc_conditions missing; run\/once add it first/);
    expect(plan.stdout).toMatch(/field\/mc_status\s+bootstrap\s+field\.create\s+mc_status missing; run\/once add it first/);
    expect(plan.stdout).toMatch(/2 custom field change\(s\) first/);
    expect(plan.stdout).toMatch(/Rotate the production API keys\s+approvals\s+discord\.post/);
    const json = jsonLines((await runCli(['plan', '--json'], env, { cwd })).stdout);
    const planned = json.filter((l) => l.reconciler !== 'bootstrap').map((l) => `${l.key} ${l.action}`).sort();
    expect(json.find((l) => l.reconciler === 'approvals')).toMatchObject({ title: 'Rotate the production API keys' });

    const once = await runCli(['once', '--json'], env, { cwd });
    expect(once.code, once.stderr).toBe(0);
    const applied = jsonLines(once.stdout)
      .filter((l) => !('outcome' in l && typeof l.outcome === 'object'))
      .map((l) => `${l.key} ${l.action}`)
      .sort();
    expect(applied).toEqual(planned);
    expect(applied.length).toBeGreaterThanOrEqual(5);
    // the posts `once` made are the ones the plan announced, in the kit's Portuguese by default
    expect((await world.messages()).some((m) => m.content.startsWith('🔔 Approval pendente no Mission Control'))).toBe(true);
  });

  it('MC_MESSAGE_LOCALE=en writes the Discord messages in English', async () => {
    const r = await runCli(['cost', 'report', '--post', '--dry-run'], { ...env, MC_MESSAGE_LOCALE: 'en' }, { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[Mission Control\] Cost report \(last 7 days\)\nTasks counted: \d+/);
    const pt = await runCli(['cost', 'report', '--post', '--dry-run'], env, { cwd });
    expect(pt.stdout).toMatch(/\[Mission Control\] Cost report \(últimos 7 dias\)\nTasks consideradas: \d+/);
    const bad = await runCli(['plan'], { ...env, MC_MESSAGE_LOCALE: 'fr' }, { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/MC_MESSAGE_LOCALE/);
  });

  it('a person at a terminal gets one line per event and progress; piped output gets JSON and nothing extra', async () => {
    const pretty = await runCli(['plan'], { ...env, MC_LOG_FORMAT: 'pretty', MC_LOG_LEVEL: 'info' }, { cwd });
    expect(pretty.code, pretty.stderr).toBe(0);
    expect(pretty.stderr).toMatch(/reading tasks: 8\/8/);
    expect(pretty.stderr).toMatch(/planning: \d+\/\d+ keys/);
    const events = pretty.stderr
      // the progress line is drawn, cleared and redrawn around log lines: take it out, then look at the events
      .replace(/(reading \w+: \d+\/\d+|planning: \d+\/\d+ keys|\r\x1b\[K)/g, '')
      .split('\n')
      .filter(Boolean);
    expect(events.length).toBeGreaterThan(0);
    // one event, one line: every line starts with its time, none is a continuation of the previous one
    for (const l of events) expect(l).toMatch(/^\[\d\d:\d\d:\d\d\] [A-Z]+: /);

    const cost = await runCli(['cost', 'report'], { ...env, MC_LOG_FORMAT: 'pretty' }, { cwd });
    expect(cost.stderr).toMatch(/reading tasks: \d+\/\d+/);

    const piped = await runCli(['plan'], { ...env, MC_LOG_LEVEL: 'info' }, { cwd });
    expect(piped.stderr).not.toMatch(/reading tasks|planning:/);
    for (const l of piped.stderr.split('\n').filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
  });

  it('task link warns when the gateway does not know the session, and still links', async () => {
    const tasks = [...(await world.tasks()).values()];
    const inbox = tasks.find((t) => t.title === 'Draft the weekly status digest')!;
    const r = await runCli(['task', 'link', inbox.id, 'agent:luan:subagent:no-such-session'], env, { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: the gateway .* does not know session agent:luan:subagent:no-such-session/);
    expect((await world.task(inbox.id)).custom_field_values?.['mc_session_key']).toBe('agent:luan:subagent:no-such-session');
    const known = await runCli(['task', 'link', inbox.id, 'agent:luan:subagent:demo-billing-export'], env, { cwd });
    expect(known.code, known.stderr).toBe(0);
    expect(known.stderr).not.toMatch(/warning/);
  });
});

describe('sandbox --env', () => {
  it('prints export lines with the variable names the controller reads', async () => {
    const sandbox = new Child(['sandbox', '--env', '--seed', 'empty'], {});
    try {
      const deadline = Date.now() + 15_000;
      while (!/MC_GATEWAY_TOKEN=/.test(sandbox.stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const env = parseExports(sandbox.stdout);
      expect(Object.keys(env).sort()).toEqual(
        ['DISCORD_API_URL', 'DISCORD_BOT_TOKEN', 'MC_API_URL', 'MC_AUTH_TOKEN', 'MC_BOARD_ID', 'MC_DISCORD_CHANNEL', 'MC_GATEWAY_TOKEN', 'MC_GATEWAY_URL'],
      );
      const cwd = fresh('mc-env-');
      const r = await runCli(['bootstrap', '--json'], { ...env, MC_STATE_DIR: join(cwd, 's') }, { cwd });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ created: expect.arrayContaining(['mc_conditions']) });
    } finally {
      await sandbox.stop();
    }
  });
});

describe('commands that do what the docs say', () => {
  const cwd = fresh('mc-cmd-');
  const base = { MC_STATE_DIR: join(cwd, 'state') };

  it('--config naming a missing file, a directory or an unreadable file exits 2 and says which', async () => {
    const missing = await runCli(['--config', join(cwd, 'nope.json'), 'config', '--print'], base, { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json: no such file \(ENOENT\)/);
    mkdirSync(join(cwd, 'adir'));
    const dir = await runCli(['--config', join(cwd, 'adir'), 'config', '--print'], base, { cwd });
    expect(dir.code).toBe(2);
    expect(dir.stderr).toMatch(/adir: is a directory \(EISDIR\)/);
    expect(dir.stderr).not.toMatch(/not valid JSON/);
    const locked = join(cwd, 'locked.json');
    writeFileSync(locked, '{}');
    chmodSync(locked, 0o000);
    const unreadable = await runCli(['--config', locked, 'config', '--print'], base, { cwd });
    // root reads any file: the permission case only exists for other users
    if (process.getuid?.() !== 0) {
      expect(unreadable.code).toBe(2);
      expect(unreadable.stderr).toMatch(/locked\.json: cannot be read \(EACCES: permission denied\)/);
    } else expect(unreadable.code).toBe(0);
    // the default kit path stays optional
    expect((await runCli(['config', '--print'], base, { cwd })).code).toBe(0);
  });

  it('doctor exits 2 on missing or invalid configuration, like every other command', async () => {
    const missing = await runCli(['doctor'], base, { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Mission Control is not configured/);
    const invalid = await runCli(['doctor'], { ...base, MC_CONCURRENCY: 'lots' }, { cwd });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/MC_CONCURRENCY/);
  });

  it('every "not configured" message names the same variables and npm start', async () => {
    const runs = await Promise.all([
      runCli(['plan'], base, { cwd }),
      runCli(['once'], base, { cwd }),
      runCli(['bootstrap'], base, { cwd }),
      runCli(['cost', 'report'], base, { cwd }),
      runCli(['task', 'create', '--title', 't', '--description', 'd'], base, { cwd }),
      runCli(['doctor'], base, { cwd }),
    ]);
    for (const r of runs) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Mission Control is not configured: set MC_API_URL, MC_AUTH_TOKEN and MC_BOARD_ID .*or run `npm start`/);
    }
  });

  it('schema and cross-field problems are listed together; a bad --log-level names the flag', async () => {
    const r = await runCli(['--log-level', 'loud', 'config', '--print'], { ...base, MC_CONCURRENCY: '0', MC_RESOURCE_RECOVER_PCT: '95', MC_BACKOFF_MIN_MS: '9000', MC_BACKOFF_MAX_MS: '10' }, { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--log-level: .*\(got "loud"\)/);
    expect(r.stderr).not.toMatch(/--loop\.logLevel/);
    expect(r.stderr).toMatch(/MC_CONCURRENCY/);
    expect(r.stderr).toMatch(/MC_RESOURCE_RECOVER_PCT: must be below MC_RESOURCE_DEGRADE_PCT/);
    expect(r.stderr).toMatch(/MC_BACKOFF_MIN_MS: must not exceed MC_BACKOFF_MAX_MS/);
  });

  it('listen addresses are checked at config time (exit 2) and IPv6 is accepted', async () => {
    const bad = await runCli(['config', '--print'], { ...base, MC_PROBE_ADDR: '127.0.0.1:99999', MC_METRICS_ADDR: 'localhost' }, { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/MC_PROBE_ADDR: expected host:port/);
    expect(bad.stderr).toMatch(/MC_METRICS_ADDR: expected host:port/);
    const v6 = await runCli(['config', '--print'], { ...base, MC_PROBE_ADDR: '[::1]:8081' }, { cwd });
    expect(v6.code, v6.stderr).toBe(0);
    expect(JSON.parse(v6.stdout).config.ops.probeAddr).toBe('[::1]:8081');
  });

  it('config --print names the source of every value, defaults included', async () => {
    const r = await runCli(['--board', 'b1', 'config', '--print'], { ...base, MC_CONCURRENCY: '8' }, { cwd });
    expect(r.code, r.stderr).toBe(0);
    const { sources } = JSON.parse(r.stdout) as { sources: Record<string, string> };
    expect(sources).toMatchObject({ 'loop.concurrency': 'environment', 'mc.boardIds': 'flag', 'loop.resyncSeconds': 'default', 'mc.apiUrl': 'unset' });
    const { settings } = await import('../../src/config/settings.js');
    expect(Object.keys(sources).sort()).toEqual(settings().map((s) => s.path.join('.')).sort());
  });

  it('--help marks required options', async () => {
    const r = await runCli(['task', 'create', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--title <title>\s+\(required\) task title/);
    expect(r.stdout).toMatch(/--assignee <name\|uuid>\s+agent name/);
  });
});
