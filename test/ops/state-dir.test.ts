import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embeddedEnv, startEmbedded, type Embedded } from '../../src/cli/embedded.js';
import { Child } from '../integration/harness/child.js';
import { runCli } from '../support/cli.js';

/**
 * One leader per board on one host, whatever the working directory: with MC_STATE_DIR unset, a `run` started in
 * one folder and a `once` started in another share the default (absolute) state folder, hence one lock.
 */
let embedded: Embedded;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  embedded = await startEmbedded({ seed: 'empty' });
  dir = mkdtempSync(join(tmpdir(), 'mc-state-dir-'));
  for (const d of ['a', 'b', 'home']) mkdirSync(join(dir, d));
  // no MC_STATE_DIR: the default applies; STATE_DIRECTORY is how systemd names it (and it wins even as root)
  env = {
    ...embeddedEnv(embedded.info),
    HOME: join(dir, 'home'),
    STATE_DIRECTORY: join(dir, 'state'),
    MC_PROBE_ADDR: '127.0.0.1:0',
    MC_METRICS_ADDR: '127.0.0.1:0',
    MC_LOG_LEVEL: 'warn',
  };
});

afterAll(async () => {
  await embedded?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('default state dir', () => {
  it('a run in one folder holds the lock that a once started in another folder finds held', async () => {
    const run = new Child(['run'], env, { cwd: join(dir, 'a') });
    try {
      const lock = join(dir, 'state', 'controller.lock');
      for (let i = 0; i < 150 && !existsSync(lock) && run.running; i++) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(lock), run.stderrTail()).toBe(true);
      const other = await runCli(['once'], env, { cwd: join(dir, 'b'), timeoutMs: 30_000 });
      // exit 4, the holder named: the same lock, whichever folder each was started from
      expect(other.code, other.stderr).toBe(4);
      expect(other.stderr).toContain(`another instance holds the controller lock: `);
      expect(other.stderr).toContain(`lock file ${lock}`);
      expect(existsSync(join(dir, 'a', '.mc-controller')) || existsSync(join(dir, 'b', '.mc-controller'))).toBe(false);
    } finally {
      await run.stop();
    }
  }, 60_000);

  it('config --print shows the state dir absolute', async () => {
    const r = await runCli(['config', '--print'], { ...env, MC_STATE_DIR: 'rel/state' }, { cwd: join(dir, 'a') });
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { config: { loop: { stateDir: string } } }).config.loop.stateDir).toBe(join(dir, 'a', 'rel', 'state'));
  });
});
