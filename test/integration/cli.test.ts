import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import { jsonLines, runCli } from '../support/cli.js';

let sandbox: SandboxHandle;
let env: Record<string, string>;
let cwd: string;

const stats = async () => (await (await fetch(`${sandbox.info.controlUrl}/stats`)).json()) as { mc: { requests: number; writes: number } };

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  cwd = mkdtempSync(join(tmpdir(), 'mc-cli-'));
  env = {
    MC_API_URL: sandbox.info.mcApiUrl,
    MC_AUTH_TOKEN: sandbox.info.mcAuthToken,
    MC_BOARD_ID: sandbox.info.boardId,
    MC_STATE_DIR: join(cwd, 'state'),
    MC_LOG_LEVEL: 'warn',
  };
});

afterAll(async () => {
  await sandbox.close();
});

describe('mc-controller CLI against the sandbox', () => {
  it('bootstrap is idempotent: the second run creates and updates nothing', async () => {
    const first = await runCli(['bootstrap', '--json'], env, { cwd });
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ created: ['mc_conditions', 'mc_status'], updated: [] });
    const second = await runCli(['bootstrap', '--json'], env, { cwd });
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout) as { created: string[]; updated: string[]; noop: string[] };
    expect(report.created).toEqual([]);
    expect(report.updated).toEqual([]);
    expect(report.noop).toContain('mc_conditions');
  });

  it('plan --json prints one object per line and writes nothing', async () => {
    const before = await stats();
    const r = await runCli(['plan', '--json'], { ...env, MC_WATCHDOG_SCOPE: 'all', MC_MISSING_KEY_GRACE_MINUTES: '0' }, { cwd });
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(Object.keys(l)).toEqual(expect.arrayContaining(['key', 'reconciler', 'action', 'reason', 'idempotencyKey', 'diff']));
    expect(lines.some((l) => l.reconciler === 'watchdog' && /mc_session_key/.test(String(l.reason)))).toBe(true);
    expect((await stats()).mc.writes).toBe(before.mc.writes);
    const exit = await runCli(['plan', '--exit-code'], { ...env, MC_WATCHDOG_SCOPE: 'all', MC_MISSING_KEY_GRACE_MINUTES: '0' }, { cwd });
    expect(exit.code).toBe(3);
    expect(exit.stdout).toMatch(/watchdog/);
  });

  it('once applies, and a pass over the unchanged board then performs zero writes', async () => {
    const e = { ...env, MC_WATCHDOG_SCOPE: 'all', MC_MISSING_KEY_GRACE_MINUTES: '0' };
    const first = await runCli(['once'], e, { cwd });
    expect(first.code, first.stderr).toBe(0);
    const before = await stats();
    const second = await runCli(['once'], e, { cwd });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/ 0 writes/);
    expect((await stats()).mc.writes).toBe(before.mc.writes);
    const plan = await runCli(['plan', '--exit-code'], e, { cwd });
    expect(plan.code).toBe(0);
  });

  it('a wrong token fails with exit 1 and a clear message that does not echo the token', async () => {
    const r = await runCli(['once'], { ...env, MC_AUTH_TOKEN: 'wrong-token-value-1234567890' }, { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rejected the auth token/);
    expect(r.stderr).toMatch(/MC_AUTH_TOKEN/);
    expect(r.stderr).not.toContain('wrong-token-value-1234567890');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('invalid configuration exits 2 listing every problem, without a stack trace', async () => {
    const r = await runCli(['once'], { ...env, MC_STALLED_MINUTES: 'soon', MC_CONCURRENCY: '0', MC_WATCHDOG_SCOPE: 'some' }, { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/MC_STALLED_MINUTES/);
    expect(r.stderr).toMatch(/MC_CONCURRENCY/);
    expect(r.stderr).toMatch(/MC_WATCHDOG_SCOPE/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const missing = await runCli(['once'], { MC_API_URL: sandbox.info.mcApiUrl }, { cwd });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/MC_AUTH_TOKEN/);
    expect(missing.stderr).toMatch(/MC_BOARD_ID/);
  });

  it('refuses a real-looking token in the versioned kit file and accepts it from .local.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-kit-'));
    mkdirSync(join(dir, 'config'));
    const kit = { api_url: sandbox.info.mcApiUrl, board_id: sandbox.info.boardId, auth_token: sandbox.info.mcAuthToken };
    writeFileSync(join(dir, 'config/mission-control-ids.json'), JSON.stringify(kit));
    const bad = await runCli(['plan'], { MC_STATE_DIR: join(dir, 's') }, { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/mission-control-ids\.local\.json/);
    expect(bad.stderr).not.toContain(sandbox.info.mcAuthToken);
    writeFileSync(join(dir, 'config/mission-control-ids.json'), JSON.stringify({ ...kit, auth_token: 'REPLACE_ME_LOCAL_AUTH_TOKEN' }));
    writeFileSync(join(dir, 'config/mission-control-ids.local.json'), JSON.stringify({ auth_token: sandbox.info.mcAuthToken }));
    const good = await runCli(['plan'], { MC_STATE_DIR: join(dir, 's') }, { cwd: dir });
    expect(good.code, good.stderr).toBe(0);
    const printed = await runCli(['config', '--print'], {}, { cwd: dir });
    expect(printed.code).toBe(0);
    expect(printed.stdout).not.toContain(sandbox.info.mcAuthToken);
    expect(JSON.parse(printed.stdout)).toMatchObject({ config: { mc: { authToken: '[redacted]' } }, sources: { 'mc.authToken': 'local file' } });
  });

  it('--help and --version work', async () => {
    const help = await runCli(['plan', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--exit-code/);
    const version = await runCli(['--version']);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
