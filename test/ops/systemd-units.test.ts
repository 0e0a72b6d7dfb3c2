import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embeddedEnv, type EmbeddedInfo } from '../../src/cli/embedded.js';
import { eventually } from '../support/eventually.js';
import { REPO } from '../support/manifests.js';
import { IMAGE, imagePresent, podman, podmanOk } from '../support/podman.js';
import { CONTAINER_TOOLS_HINT, tool } from '../support/tools.js';

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

/**
 * The services' syscall filter, applied to the real program: the same allow and deny sets (expanded by
 * systemd-analyze itself) as a seccomp profile for podman, refusing with the unit's errno. The sandbox and a
 * `once` pass against it run under it, so V8, the HTTP/WebSocket clients and the state writes all meet it.
 * One difference, needed by the container runtime only: the @setuid calls, capset/capget and prctl stay allowed,
 * because runc switches to the image's user and drops capabilities after installing the filter (systemd does
 * both before).
 */
const podmanTool = tool('podman', CONTAINER_TOOLS_HINT);

function expandGroup(name: string): Set<string> {
  const out = run(['syscall-filter', name]).stdout;
  const calls = new Set<string>();
  for (const raw of out.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line === name) continue;
    for (const c of line.startsWith('@') ? expandGroup(line) : [line]) calls.add(c);
  }
  return calls;
}

function seccompProfile(unit: string): object {
  const text = readFileSync(join(DIR, unit), 'utf8');
  const filters = [...text.matchAll(/^SystemCallFilter=(.*)$/gm)].map((m) => m[1]!.trim());
  const allow = new Set<string>();
  for (const f of filters.filter((f) => !f.startsWith('~'))) for (const g of f.split(/\s+/)) for (const c of expandGroup(g)) allow.add(c);
  for (const f of filters.filter((f) => f.startsWith('~'))) for (const g of f.slice(1).split(/\s+/)) for (const c of expandGroup(g)) allow.delete(c);
  for (const c of [...expandGroup('@setuid'), 'capset', 'capget', 'prctl']) allow.add(c);
  const errno = /^SystemCallErrorNumber=(\w+)$/m.exec(text)?.[1];
  expect(errno).toBe('EPERM');
  return { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: [...allow].sort(), action: 'SCMP_ACT_ALLOW' }] };
}

describe.skipIf(analyze.skip || podmanTool.skip)('the services\' syscall filter, applied to the controller', () => {
  it('leaves Node working: the sandbox and a `once` pass run under it and exit 0', async () => {
    analyze.require();
    podmanTool.require();
    if (!(await imagePresent())) throw new Error(`image ${IMAGE} is missing: run \`npm run image:build\` first`);
    const work = mkdtempSync(join(tmpdir(), 'mc-seccomp-'));
    const name = `mc-seccomp-test-${process.pid}`;
    try {
      const profile = join(work, 'seccomp.json');
      writeFileSync(profile, JSON.stringify(seccompProfile('mc-controller.service')));
      const filtered = ['--security-opt', `seccomp=${profile}`];
      await podmanOk(['run', '-d', '--name', name, ...filtered, IMAGE, 'sandbox', '--seed', 'demo',
        '--mc-port', '18000', '--discord-port', '18001', '--control-port', '18002', '--gateway-port', '18003']);
      const info = await eventually('the sandbox ready line under the filter', 60_000, async () => {
        const line = (await podmanOk(['logs', name])).split('\n').find((l) => l.startsWith('{') && l.includes('mcApiUrl'));
        return line ? (JSON.parse(line) as EmbeddedInfo) : undefined;
      }, 250);
      const envFile = join(work, 'env');
      const env = { ...embeddedEnv(info), MC_AUTO_BOOTSTRAP: 'true', MC_GATEWAY_SCOPES: 'operator.read,operator.admin' };
      writeFileSync(envFile, Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n'), { mode: 0o600 });
      const once = await podman(['run', '--rm', '--network', `container:${name}`, '--env-file', envFile, ...filtered, IMAGE, 'once'], 120_000);
      expect(once.code, once.stderr.slice(-3000)).toBe(0);
    } finally {
      await podman(['rm', '-f', '-t', '0', name]);
      rmSync(work, { recursive: true, force: true });
    }
  }, 180_000);
});
