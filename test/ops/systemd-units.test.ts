import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/manifests.js';
import { tool } from '../support/tools.js';

/** The unit files as systemd itself reads them: `systemd-analyze verify` and the offline security score. */

const analyze = tool('systemd-analyze', 'apt-get install systemd');
const DIR = join(REPO, 'manifests', 'systemd');
const SERVICES = ['mc-controller.service', 'mc-controller-once.service'];
const MAX_EXPOSURE = 2.0;

const run = (args: string[]) => spawnSync('systemd-analyze', args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });

describe.skipIf(analyze.skip)('systemd units, checked by systemd-analyze', () => {
  it.each([...SERVICES, 'mc-controller-once.timer'])('%s passes `systemd-analyze verify` without a warning', (unit) => {
    analyze.require();
    const r = run(['verify', `./${unit}`]);
    expect(r.stderr.trim() + r.stdout.trim(), unit).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(SERVICES)(`%s has an exposure of at most ${MAX_EXPOSURE} (systemd-analyze security --offline=yes)`, (unit) => {
    analyze.require();
    const r = run(['security', '--offline=yes', `./${unit}`]);
    const exposure = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.stdout)?.[1];
    expect(exposure, r.stdout + r.stderr).toBeDefined();
    console.log(`[systemd] ${unit}: exposure ${exposure}`);
    expect(Number(exposure)).toBeLessThanOrEqual(MAX_EXPOSURE);
    // V8's JIT maps writable+executable memory: this protection would kill the process at start-up.
    expect(r.stdout).toMatch(/✗ MemoryDenyWriteExecute=/);
    expect(readFileSync(join(DIR, unit), 'utf8')).not.toMatch(/^MemoryDenyWriteExecute=/m);
  });
});
