import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { listProcesses, looksLikeGateway, protectedReason, readProcess, redactArgv, redactCommand } from './index.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function idle(tag: string, script = 'setInterval(()=>{},1000)'): ChildProcess {
  const c = spawn(process.execPath, ['-e', script, tag], { stdio: 'ignore' });
  children.push(c);
  return c;
}

/** until the child's /proc entry shows what we expect (exec and process.title are not instant) */
async function until<T>(fn: () => Promise<T | null>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await fn();
    if (v !== null && ok(v)) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not reached within 2 s');
}

describe('process table', () => {
  it('reads argv, exe, parent and start time of a live child, and lists it', async () => {
    const tag = `mc-h4-list-${process.pid}`;
    const child = idle(tag);
    const p = await until(() => readProcess(child.pid!), (v) => v.argv.includes(tag));
    expect(p.argv).toEqual([process.execPath, '-e', 'setInterval(()=>{},1000)', tag]);
    expect(p.ppid).toBe(process.pid);
    expect(p.exe).toBe(process.execPath);
    expect(p.startTicks).toBeGreaterThan(0);
    expect(p.zombie).toBe(false);
    const all = await listProcesses();
    expect(all.some((q) => q.pid === child.pid && q.command.includes(tag))).toBe(true);
    expect(await readProcess(999_999_999)).toBeNull();
  });

  it('sees a process title like the gateway sets it', async () => {
    const child = idle('mc-h4-gw', "process.title='openclaw-gateway';setInterval(()=>{},1000)");
    const p = await until(() => readProcess(child.pid!), (v) => v.command.startsWith('openclaw-gateway'));
    expect(protectedReason(p)).toBe('gateway');
  });
});

describe('protection rules', () => {
  const self = { pid: 500, ppid: 400 };
  const proc = (pid: number, argv: string[], exe: string | null = null) => ({ pid, argv, exe });
  it.each([
    [proc(1, ['/sbin/init']), 'init'],
    [proc(0, ['x']), 'init'],
    [proc(500, ['node', 'main.js']), 'self'],
    [proc(400, ['bash']), 'parent'],
    [proc(10, ['openclaw-gateway']), 'gateway'],
    [proc(11, ['node', '/usr/lib/node_modules/openclaw/openclaw.mjs', 'gateway', 'run']), 'gateway'],
    [proc(12, ['/usr/local/bin/openclaw', 'gateway', 'call', 'x']), 'gateway'],
    [proc(13, ['node', '/usr/lib/node_modules/openclaw/dist/process/spawn-broker/worker.js']), 'gateway'],
    [proc(14, ['node', '/home/openclaw/.openclaw/workspace/node_modules/.bin/vite']), null],
    [proc(15, ['/tmp/puppeteer_dev_chrome_profile-1/chrome', '--headless']), null],
  ])('%j → %s', (p, reason) => {
    expect(protectedReason(p, self)).toBe(reason);
  });
  it('does not treat a home folder named openclaw as a gateway (the kit did)', () => {
    expect(looksLikeGateway({ argv: ['python3', '/home/openclaw/scripts/scrape.py'], exe: '/usr/bin/python3.11' })).toBe(false);
  });
});

describe('redaction', () => {
  it('hides secret-looking values, deterministically', () => {
    const argv = ['tool', '--token', 's3cr3t', '--api-key=abc', 'GITHUB_TOKEN=ghp_x', '-H', 'Authorization: Bearer xyz', '--name', 'ok'];
    expect(redactArgv(argv)).toEqual(['tool', '--token', '***', '--api-key=***', 'GITHUB_TOKEN=***', '-H', 'Authorization: Bearer ***', '--name', 'ok']);
    expect(redactCommand(argv)).not.toMatch(/s3cr3t|abc|ghp_x|xyz/);
    expect(redactCommand(argv)).toBe(redactCommand([...argv]));
  });
});
