import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, configPaths, loadConfig, looksLikeRealSecret, redactedConfig, type LoadOptions } from './index.js';

/** Every test gets its own working directory and an explicit environment (never process.env). */

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function workdir(files: { versioned?: unknown; local?: unknown; raw?: Record<string, string> } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'mc-config-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'config'));
  if (files.versioned !== undefined) writeFileSync(join(dir, 'config/mission-control-ids.json'), JSON.stringify(files.versioned));
  if (files.local !== undefined) writeFileSync(join(dir, 'config/mission-control-ids.local.json'), JSON.stringify(files.local));
  for (const [path, text] of Object.entries(files.raw ?? {})) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const TOKEN = 'mcLocalAuth_9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a';
const GW_TOKEN = 'gw_Zx81Lq0pRtY6uIo2WsEdCvBnMkJhGf';
const DISCORD_TOKEN = 'MTEyMzQ1Njc4OTAxMjM0NTY3OA.Gh1jKl.abcdefghijklmnopqrstuvwxyz0123';

function problemsOf(opts: LoadOptions): string[] {
  try {
    loadConfig(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

function errorOf(opts: LoadOptions): ConfigError {
  try {
    loadConfig(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('loads with nothing configured', () => {
    const { config, files, sources } = loadConfig({ env: {}, cwd: workdir() });
    expect(files).toEqual([]);
    expect(sources).toEqual({});
    expect(config.mc.apiUrl).toBeUndefined();
    expect(config.mc.boardIds).toEqual([]);
    expect(config.loop).toMatchObject({ dryRun: false, concurrency: 4, resyncSeconds: 30, backoffMinMs: 1_000, backoffMaxMs: 300_000 });
    expect(config.degrade).toMatchObject({ degradePct: 90, recoverPct: 85, pausedConcerns: ['cost'] });
    expect(config.ops).toMatchObject({ leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 });
    expect(config.agents).toEqual({});
  });
});

describe('precedence: defaults < versioned file < .local.json < env < flags', () => {
  type Layers = { file?: string; local?: string; env?: string; flag?: string };
  it.each<[string, Layers, string | undefined, string | undefined]>([
    ['default only', {}, undefined, undefined],
    ['file', { file: 'c-file' }, 'c-file', 'file'],
    ['local over file', { file: 'c-file', local: 'c-local' }, 'c-local', 'local file'],
    ['local alone', { local: 'c-local' }, 'c-local', 'local file'],
    ['env over local', { file: 'c-file', local: 'c-local', env: 'c-env' }, 'c-env', 'environment'],
    ['flag over env', { file: 'c-file', local: 'c-local', env: 'c-env', flag: 'c-flag' }, 'c-flag', 'flag'],
    ['flag over file', { file: 'c-file', flag: 'c-flag' }, 'c-flag', 'flag'],
  ])('%s', (_name, layers, want, source) => {
    const cwd = workdir({
      ...(layers.file ? { versioned: { notifications_channel: layers.file } } : {}),
      ...(layers.local ? { local: { notifications_channel: layers.local } } : {}),
    });
    const loaded = loadConfig({
      cwd,
      env: layers.env ? { MC_DISCORD_CHANNEL: layers.env } : {},
      ...(layers.flag ? { flags: { 'discord.channel': layers.flag } } : {}),
    });
    expect(loaded.config.discord.channel).toBe(want);
    expect(loaded.sources['discord.channel']).toBe(source);
  });

  it('layers apply per setting, not per file', () => {
    const cwd = workdir({
      versioned: { notifications_channel: 'chan-file', api_url: 'http://file.invalid/api/v1', board_id: 'board-file' },
      local: { api_url: 'http://local.invalid/api/v1', auth_token: TOKEN },
    });
    const { config, sources, files } = loadConfig({ cwd, env: { MC_BOARD_ID: 'board-env' }, flags: { 'loop.concurrency': 7 } });
    expect(config.discord.channel).toBe('chan-file');
    expect(config.mc.apiUrl).toBe('http://local.invalid/api/v1');
    expect(config.mc.authToken).toBe(TOKEN);
    expect(config.mc.boardIds).toEqual(['board-env']);
    expect(config.loop.concurrency).toBe(7);
    expect(sources).toMatchObject({
      'discord.channel': 'file',
      'mc.apiUrl': 'local file',
      'mc.authToken': 'local file',
      'mc.boardIds': 'environment',
      'loop.concurrency': 'flag',
    });
    expect(files).toHaveLength(2);
  });

  it('empty strings and nulls in files and env count as unset', () => {
    const cwd = workdir({ versioned: { notifications_channel: 'keep' }, local: { notifications_channel: '' , public_url: null } });
    const { config } = loadConfig({ cwd, env: { MC_DISCORD_CHANNEL: '', MC_CONCURRENCY: '' } });
    expect(config.discord.channel).toBe('keep');
    expect(config.loop.concurrency).toBe(4);
    expect(config.mc.publicUrl).toBeUndefined();
  });

  it('MC_CONFIG_PATH selects another file and its .local.json sibling', () => {
    const cwd = workdir({
      versioned: { notifications_channel: 'default-location' },
      raw: {
        'etc/mc.json': JSON.stringify({ notifications_channel: 'from-etc', board_id: 'b-etc' }),
        'etc/mc.local.json': JSON.stringify({ notifications_channel: 'from-etc-local' }),
      },
    });
    const { config, files } = loadConfig({ cwd, env: { MC_CONFIG_PATH: 'etc/mc.json' } });
    expect(config.discord.channel).toBe('from-etc-local');
    expect(config.mc.boardIds).toEqual(['b-etc']);
    expect(files).toEqual([join(cwd, 'etc/mc.json'), join(cwd, 'etc/mc.local.json')]);
  });

  it.each([
    ['config/mission-control-ids.json', 'config/mission-control-ids.local.json'],
    ['x/ids', 'x/ids.local.json'],
    ['x/only.local.json', 'x/only.local.json'],
  ])('configPaths(%s) → local %s', (path, local) => {
    const p = configPaths({ MC_CONFIG_PATH: path }, '/w');
    expect(p.versioned).toBe(join('/w', path));
    expect(p.local).toBe(join('/w', local));
  });

  it('reads the kit file keys (agents, gateway_id, public_url)', () => {
    const cwd = workdir({ versioned: { agents: { luan: 'uuid-1' }, gateway_id: 'gw-1', public_url: 'https://mc.example.com' } });
    const { config } = loadConfig({ cwd, env: {} });
    expect(config.agents).toEqual({ luan: 'uuid-1' });
    expect(config.mc.gatewayId).toBe('gw-1');
    expect(config.mc.publicUrl).toBe('https://mc.example.com');
  });
});

describe('secrets in files', () => {
  it.each([
    'REPLACE_ME_LOCAL_AUTH_TOKEN',
    'replace-me-with-a-real-local-token',
    'CHANGEME_CHANGEME_CHANGEME',
    'replace-with-strong-random-token',
    'your-local-auth-token-goes-here',
    '<LOCAL_AUTH_TOKEN_FROM_THE_BOARD>',
    'xxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    '****************************',
    'short-token',
  ])('placeholder %j in the versioned file is ignored', (placeholder) => {
    expect(looksLikeRealSecret(placeholder)).toBe(false);
    const { config, sources } = loadConfig({ cwd: workdir({ versioned: { auth_token: placeholder } }), env: {} });
    expect(config.mc.authToken).toBeUndefined();
    expect(sources['mc.authToken']).toBeUndefined();
  });

  it.each(['xK9f2mQ7vL3pR8sT1wY6zB4nC0aa', 'your_9f2mQ7vL3pR8sT1wY6zB4nC0', 'changeme9f2mQ7vL3pR8sT1wY6zB4', 'Xx_real-token-2026-very-long-0001'])(
    'a real token that merely begins like a placeholder (%j) is kept',
    (token) => {
      expect(looksLikeRealSecret(token)).toBe(true);
      expect(loadConfig({ cwd: workdir({ local: { auth_token: token } }), env: {} }).config.mc.authToken).toBe(token);
    },
  );

  it('a placeholder in .local.json is ignored too', () => {
    const { config } = loadConfig({ cwd: workdir({ local: { auth_token: 'REPLACE_ME_LOCAL_AUTH_TOKEN' } }), env: {} });
    expect(config.mc.authToken).toBeUndefined();
  });

  it('refuses a real-looking auth_token in the versioned file, naming the .local.json file and MC_AUTH_TOKEN', () => {
    const cwd = workdir({ versioned: { auth_token: TOKEN } });
    const err = errorOf({ cwd, env: {} });
    expect(err.problems).toHaveLength(1);
    const [problem] = err.problems;
    expect(problem).toContain(join(cwd, 'config/mission-control-ids.local.json'));
    expect(problem).toContain('MC_AUTH_TOKEN');
    expect(problem).toContain('auth_token');
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).not.toContain(TOKEN.slice(0, 12));
  });

  it('refuses it even when the environment also provides a token', () => {
    const cwd = workdir({ versioned: { auth_token: TOKEN } });
    expect(problemsOf({ cwd, env: { MC_AUTH_TOKEN: `${TOKEN}-env` } }).join('\n')).toContain('MC_AUTH_TOKEN');
  });

  it('accepts the same token in .local.json', () => {
    const cwd = workdir({
      versioned: { api_url: 'http://127.0.0.1:8000/api/v1', board_id: 'b1', auth_token: 'REPLACE_ME_LOCAL_AUTH_TOKEN' },
      local: { auth_token: TOKEN },
    });
    const loaded = loadConfig({ cwd, env: {} });
    expect(loaded.config.mc.authToken).toBe(TOKEN);
    expect(loaded.sources['mc.authToken']).toBe('local file');
  });

  it('the environment token wins over the .local.json one', () => {
    const cwd = workdir({ local: { auth_token: TOKEN } });
    const loaded = loadConfig({ cwd, env: { MC_AUTH_TOKEN: 'env-token-0123456789abcdefghij' } });
    expect(loaded.config.mc.authToken).toBe('env-token-0123456789abcdefghij');
    expect(loaded.sources['mc.authToken']).toBe('environment');
  });
});

describe('invalid values', () => {
  it('lists every invalid env value at once, each named by its variable', () => {
    const problems = problemsOf({
      cwd: workdir(),
      env: {
        MC_CONCURRENCY: 'lots',
        MC_RESYNC_SECONDS: '0',
        MC_LOG_LEVEL: 'loud',
        MC_GATEWAY_URL: 'http://not-a-websocket',
        MC_DRY_RUN: 'maybe',
        MC_WATCHDOG_SCOPE: 'everything',
        MC_PROBE_ADDR: 'no-port',
      },
    });
    for (const name of ['MC_CONCURRENCY', 'MC_RESYNC_SECONDS', 'MC_LOG_LEVEL', 'MC_GATEWAY_URL', 'MC_DRY_RUN', 'MC_WATCHDOG_SCOPE', 'MC_PROBE_ADDR']) {
      expect(problems.filter((p) => p.startsWith(`${name}:`)), name).toHaveLength(1);
    }
    expect(problems).toHaveLength(7);
    // non-secret values are echoed to help the operator
    expect(problems.find((p) => p.startsWith('MC_LOG_LEVEL:'))).toContain('"loud"');
  });

  it('names the file and key for an invalid file value, and the flag for an invalid flag', () => {
    const cwd = workdir({ local: { public_url: 'not a url' } });
    const problems = problemsOf({ cwd, env: {}, flags: { 'loop.concurrency': 0 } });
    expect(problems).toHaveLength(2);
    expect(problems.some((p) => p.startsWith(`public_url in ${join(cwd, 'config/mission-control-ids.local.json')}:`))).toBe(true);
    expect(problems.some((p) => p.startsWith('--loop.concurrency:'))).toBe(true);
  });

  it.each([
    ['not JSON', '{ "board_id": '],
    ['an array', '[1, 2]'],
    ['a string', '"hello"'],
  ])('reports a versioned file that is %s', (_name, text) => {
    const cwd = workdir({ raw: { 'config/mission-control-ids.json': text } });
    const problems = problemsOf({ cwd, env: {} });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(join(cwd, 'config/mission-control-ids.json'));
  });

  it('never puts secrets into the error, whatever else is wrong', () => {
    const env = {
      MC_AUTH_TOKEN: TOKEN,
      MC_GATEWAY_TOKEN: GW_TOKEN,
      DISCORD_BOT_TOKEN: DISCORD_TOKEN,
      MC_API_URL: 'not-a-url',
      MC_GATEWAY_URL: 'ftp://x',
      MC_CONCURRENCY: '1000',
    };
    const err = errorOf({ cwd: workdir(), env, flags: { 'gateway.token': 12345 } });
    expect(err.problems.length).toBeGreaterThanOrEqual(3);
    const text = `${err.message}\n${err.problems.join('\n')}\n${err.stack ?? ''}`;
    for (const secret of [TOKEN, GW_TOKEN, DISCORD_TOKEN, '12345']) expect(text).not.toContain(secret);
  });

  it('an invalid secret flag is reported without its value', () => {
    const problems = problemsOf({ cwd: workdir(), env: {}, flags: { 'mc.authToken': 987654321 } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^--mc\.authToken:/);
    expect(problems[0]).not.toContain('987654321');
  });

  // Regression (load.ts readJson): the JSON.parse message is copied into the problem, and V8 quotes the text
  // around the error position, so a malformed .local.json leaks part of the token into the ConfigError.
  it('a malformed .local.json does not leak the token through the JSON parse error', () => {
    const cwd = workdir({ raw: { 'config/mission-control-ids.local.json': `{"auth_token": '${TOKEN}'}` } });
    const err = errorOf({ cwd, env: {} });
    expect(err.message).toContain('mission-control-ids.local.json');
    for (let i = 0; i + 8 <= TOKEN.length; i++) expect(err.message).not.toContain(TOKEN.slice(i, i + 8));
  });
});

describe('parsing', () => {
  it.each([
    ['a,b,c', ['a', 'b', 'c']],
    [' a , b ,, c, ', ['a', 'b', 'c']],
    ['single', ['single']],
  ])('MC_BOARD_ID %j', (value, want) => {
    expect(loadConfig({ cwd: workdir(), env: { MC_BOARD_ID: value } }).config.mc.boardIds).toEqual(want);
  });

  it('board_id in the kit file may be a single id', () => {
    expect(loadConfig({ cwd: workdir({ versioned: { board_id: 'b-1' } }), env: {} }).config.mc.boardIds).toEqual(['b-1']);
  });

  it.each([
    ['1', true],
    ['true', true],
    ['TRUE', true],
    [' yes ', true],
    ['on', true],
    ['0', false],
    ['false', false],
    ['False', false],
    ['no', false],
    ['off', false],
  ])('MC_DRY_RUN=%j → %s', (value, want) => {
    const loaded = loadConfig({ cwd: workdir(), env: { MC_DRY_RUN: value } });
    expect(loaded.config.loop.dryRun).toBe(want);
    expect(loaded.sources['loop.dryRun']).toBe('environment');
  });

  it.each(['2', 'maybe', 'y', 'enabled'])('MC_DRY_RUN=%j is refused', (value) => {
    const problems = problemsOf({ cwd: workdir(), env: { MC_DRY_RUN: value } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^MC_DRY_RUN:/);
  });

  it('boolean flags may be real booleans', () => {
    expect(loadConfig({ cwd: workdir(), env: { MC_DRY_RUN: '0' }, flags: { 'loop.dryRun': true } }).config.loop.dryRun).toBe(true);
  });

  it('numbers are coerced from env strings', () => {
    const { config } = loadConfig({ cwd: workdir(), env: { MC_CONCURRENCY: '8', MC_RESYNC_SECONDS: '2.5', MC_STALLED_MINUTES: '90' } });
    expect(config.loop.concurrency).toBe(8);
    expect(config.loop.resyncSeconds).toBe(2.5);
    expect(config.watchdog.stalledMinutes).toBe(90);
  });

  it.each([
    ['MC_CONCURRENCY', '0'],
    ['MC_CONCURRENCY', '65'],
    ['MC_CONCURRENCY', '1.5'],
    ['MC_RESOURCE_DEGRADE_PCT', '101'],
    ['MC_MAX_RETRIES', '-1'],
  ])('%s=%s is out of range', (name, value) => {
    const problems = problemsOf({ cwd: workdir(), env: { [name]: value } });
    expect(problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
  });
});

describe('cross checks', () => {
  const base = { cwd: '' };
  it('MC_API_URL needs a token and a board, both reported at once', () => {
    const problems = problemsOf({ ...base, cwd: workdir(), env: { MC_API_URL: 'http://127.0.0.1:8000/api/v1' } });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^MC_AUTH_TOKEN:/);
    expect(problems[1]).toMatch(/^MC_BOARD_ID:/);
  });

  it('MC_API_URL with a token and boards is fine', () => {
    const { config } = loadConfig({ cwd: workdir(), env: { MC_API_URL: 'http://127.0.0.1:8000/api/v1', MC_AUTH_TOKEN: TOKEN, MC_BOARD_ID: 'b1,b2' } });
    expect(config.mc.boardIds).toEqual(['b1', 'b2']);
  });

  it('MC_GATEWAY_URL needs MC_GATEWAY_TOKEN', () => {
    expect(problemsOf({ cwd: workdir(), env: { MC_GATEWAY_URL: 'ws://127.0.0.1:18789' } })).toEqual([
      expect.stringMatching(/^MC_GATEWAY_TOKEN:/),
    ]);
    expect(loadConfig({ cwd: workdir(), env: { MC_GATEWAY_URL: 'ws://127.0.0.1:18789', MC_GATEWAY_TOKEN: GW_TOKEN } }).config.gateway.token).toBe(GW_TOKEN);
  });

  it.each([
    ['15', '10', '2', true],
    ['10', '10', '2', false], // lease must exceed renew
    ['15', '16', '2', false],
    ['15', '2.4', '2', false], // renew must exceed 1.2 × retry
    ['15', '2.5', '2', true],
    ['30', '20', '0.5', true],
  ])('lease %ss, renew %ss, retry %ss → ok=%s', (lease, renew, retry, ok) => {
    const env = { MC_LEASE_DURATION_SECONDS: lease, MC_RENEW_DEADLINE_SECONDS: renew, MC_RETRY_PERIOD_SECONDS: retry };
    if (ok) expect(() => loadConfig({ cwd: workdir(), env })).not.toThrow();
    else expect(problemsOf({ cwd: workdir(), env })).toEqual([expect.stringMatching(/^leader election:/)]);
  });

  it.each([
    ['85', '90', true],
    ['90', '90', false],
    ['95', '90', false],
  ])('recover %s%% vs degrade %s%% → ok=%s', (recover, degrade, ok) => {
    const env = { MC_RESOURCE_RECOVER_PCT: recover, MC_RESOURCE_DEGRADE_PCT: degrade };
    if (ok) expect(() => loadConfig({ cwd: workdir(), env })).not.toThrow();
    else expect(problemsOf({ cwd: workdir(), env })).toEqual([expect.stringMatching(/^MC_RESOURCE_RECOVER_PCT:/)]);
  });

  it('backoff min must not exceed max', () => {
    expect(problemsOf({ cwd: workdir(), env: { MC_BACKOFF_MIN_MS: '5000', MC_BACKOFF_MAX_MS: '100' } })).toEqual([
      expect.stringMatching(/^MC_BACKOFF_MIN_MS:/),
    ]);
  });

  it.each([
    ['15000', false],
    ['15001', true],
  ])('stream connect timeout %s ms vs the 15 s ping → ok=%s', (ms, ok) => {
    const env = { MC_STREAM_CONNECT_TIMEOUT_MS: ms };
    if (ok) expect(loadConfig({ cwd: workdir(), env }).config.mc.streamConnectTimeoutMs).toBe(Number(ms));
    else expect(problemsOf({ cwd: workdir(), env })).toEqual([expect.stringMatching(/^MC_STREAM_CONNECT_TIMEOUT_MS: must exceed 15000 ms/)]);
  });

  it.each(['*', '**', '*/*', '/tmp/puppeteer*,*'])('a kill allowlist pattern matching every process (%j) is refused', (list) => {
    expect(problemsOf({ cwd: workdir(), env: { MC_RESOURCE_KILL_ALLOWLIST: list } })).toEqual([
      expect.stringMatching(/^MC_RESOURCE_KILL_ALLOWLIST: ".*" would match every process/),
    ]);
  });

  it('several cross-check problems are listed together', () => {
    const problems = problemsOf({
      cwd: workdir(),
      env: { MC_API_URL: 'http://x.invalid/api/v1', MC_RESOURCE_RECOVER_PCT: '95', MC_LEASE_DURATION_SECONDS: '5' },
    });
    expect(problems).toHaveLength(4);
  });
});

describe('redactedConfig', () => {
  it('replaces every secret and keeps the rest', () => {
    const cwd = workdir({ local: { auth_token: TOKEN } });
    const loaded = loadConfig({
      cwd,
      env: {
        MC_API_URL: 'http://127.0.0.1:8000/api/v1',
        MC_BOARD_ID: 'b1',
        MC_GATEWAY_URL: 'ws://127.0.0.1:18789',
        MC_GATEWAY_TOKEN: GW_TOKEN,
        DISCORD_BOT_TOKEN: DISCORD_TOKEN,
      },
    });
    const red = redactedConfig(loaded);
    const text = JSON.stringify(red);
    for (const secret of [TOKEN, GW_TOKEN, DISCORD_TOKEN]) expect(text).not.toContain(secret);
    expect(red).toMatchObject({
      mc: { authToken: '[redacted]', apiUrl: 'http://127.0.0.1:8000/api/v1', boardIds: ['b1'] },
      gateway: { token: '[redacted]', url: 'ws://127.0.0.1:18789' },
      discord: { token: '[redacted]' },
    });
    // the loaded config itself is untouched
    expect(loaded.config.mc.authToken).toBe(TOKEN);
  });

  it('redacts credentials inside URLs (user:token@host), for every URL setting', () => {
    const loaded = loadConfig({
      cwd: workdir(),
      env: {
        MC_API_URL: `http://operator:${TOKEN}@127.0.0.1:8000/api/v1`,
        MC_AUTH_TOKEN: TOKEN,
        MC_BOARD_ID: 'b1',
        MC_GATEWAY_URL: `ws://gw:${GW_TOKEN}@127.0.0.1:18789`,
        MC_GATEWAY_TOKEN: GW_TOKEN,
        DISCORD_API_URL: `https://bot:${DISCORD_TOKEN}@discord.example/api`,
      },
    });
    const red = redactedConfig(loaded);
    const text = JSON.stringify(red);
    for (const secret of [TOKEN, GW_TOKEN, DISCORD_TOKEN, 'operator:', 'gw:', 'bot:']) expect(text).not.toContain(secret);
    expect(red).toMatchObject({
      mc: { apiUrl: 'http://[redacted]@127.0.0.1:8000/api/v1' },
      gateway: { url: 'ws://[redacted]@127.0.0.1:18789' },
      discord: { apiUrl: 'https://[redacted]@discord.example/api' },
    });
  });

  it('leaves unset secrets absent', () => {
    const red = redactedConfig(loadConfig({ cwd: workdir(), env: {} })) as { mc: Record<string, unknown>; gateway: Record<string, unknown> };
    expect(red.mc.authToken).toBeUndefined();
    expect(red.gateway.token).toBeUndefined();
  });
});
