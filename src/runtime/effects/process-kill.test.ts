import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { readProcess, redactCommand } from '../../clients/process/index.js';
import type { KillAction } from '../../model/index.js';
import { makeKillHandler } from './process-kill.js';
import { EffectRefusedError, EffectsDoor } from './door.js';

const ctx = { logger: pino({ level: 'silent' }) };
const door = EffectsDoor.open();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

interface Spawned {
  child: ChildProcess;
  command: string;
  exited: Promise<NodeJS.Signals | null>;
}

async function idle(tag: string, script = 'setInterval(()=>{},1000)'): Promise<Spawned> {
  const child = spawn(process.execPath, ['-e', script, tag], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
  // wait until the child runs our script (it prints once its handlers are installed)
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  const p = await readProcess(child.pid!);
  return { child, command: redactCommand(p!.argv), exited };
}

const READY = "process.stdout.write('up\\n');";
const alive = (s: Spawned) => s.child.exitCode === null && s.child.signalCode === null;
const kill = (targets: Spawned[], graceMs = 2_000, extra: KillAction['targets'] = []): KillAction => ({
  type: 'process.kill',
  key: 'global/degrade',
  reconciler: 'degrade',
  reason: 'KillAllowlisted',
  idempotencyKey: `k-${Math.random()}`,
  targets: [...targets.map((t) => ({ pid: t.child.pid!, command: t.command })), ...extra],
  graceMs,
});

describe('process.kill handler on real child processes', () => {
  it('SIGTERMs the targets and leaves everything else running', async () => {
    const victim = await idle('mc-h4-victim', `${READY}setInterval(()=>{},1000)`);
    const bystander = await idle('mc-h4-bystander', `${READY}setInterval(()=>{},1000)`);
    const out = await makeKillHandler({ door })(kill([victim]), ctx);
    expect(out.outcome).toBe('applied');
    expect(await victim.exited).toBe('SIGTERM');
    expect(alive(bystander)).toBe(true);
    expect(out.detail).toBe(`${victim.child.pid}:terminated`);
  });

  it('logs each process by its command line, not only its pid', async () => {
    const victim = await idle('mc-h4-logged', `${READY}setInterval(()=>{},1000)`);
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    await makeKillHandler({ door })(kill([victim]), { logger });
    const line = lines.find((l) => l.msg === 'kill allowlist applied');
    expect(line?.processes).toEqual([{ pid: victim.child.pid, command: victim.command, outcome: 'terminated' }]);
    expect(victim.command).toContain('mc-h4-logged');
  });

  it('SIGKILLs a survivor after the grace period', async () => {
    const stubborn = await idle('mc-h4-stubborn', `process.on('SIGTERM',()=>{});${READY}setInterval(()=>{},1000)`);
    const started = Date.now();
    const out = await makeKillHandler({ door, pollMs: 20 })(kill([stubborn], 300), ctx);
    expect(await stubborn.exited).toBe('SIGKILL');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(out.detail).toContain(`${stubborn.child.pid}:killed`);
  });

  it('refuses a reused pid (command changed), this process, its parent and a gateway', async () => {
    const reused = await idle('mc-h4-reused', `${READY}setInterval(()=>{},1000)`);
    const fakeSelf = await idle('mc-h4-self', `${READY}setInterval(()=>{},1000)`);
    const fakeParent = await idle('mc-h4-parent', `${READY}setInterval(()=>{},1000)`);
    const gw = await idle('mc-h4-gw', `process.title='openclaw-gateway';${READY}setInterval(()=>{},1000)`);
    const handler = makeKillHandler({ door, self: { pid: fakeSelf.child.pid!, ppid: fakeParent.child.pid! } });
    const action = kill([fakeSelf, fakeParent, gw], 200, [{ pid: reused.child.pid!, command: 'node something-else' }]);
    const out = await handler(action, ctx);
    expect(out.outcome).toBe('skipped');
    expect(out.detail).toContain(`${fakeSelf.child.pid}:protected:self`);
    expect(out.detail).toContain(`${fakeParent.child.pid}:protected:parent`);
    expect(out.detail).toContain(`${gw.child.pid}:protected:gateway`);
    expect(out.detail).toContain(`${reused.child.pid}:changed`);
    for (const s of [reused, fakeSelf, fakeParent, gw]) expect(alive(s)).toBe(true);
  });

  it('refuses the real self and parent whatever the action says', async () => {
    const me = await readProcess(process.pid);
    const parent = await readProcess(process.ppid);
    const targets = [me!, parent!].map((p) => ({ pid: p.pid, command: redactCommand(p.argv) }));
    const out = await makeKillHandler({ door })({ ...kill([], 100), targets }, ctx);
    expect(out.detail).toBe(`${process.pid}:protected:self ${process.ppid}:protected:parent`);
  });

  it('a target already gone is reported, not an error', async () => {
    const gone = await idle('mc-h4-gone', `${READY}setInterval(()=>{},1000)`);
    gone.child.kill('SIGKILL');
    await gone.exited;
    const out = await makeKillHandler({ door })(kill([gone], 100), ctx);
    expect(out).toMatchObject({ outcome: 'skipped', detail: `${gone.child.pid}:gone` });
  });

  it('signals nothing through a closed effects door (dry-run, plan, standby)', async () => {
    const victim = await idle('mc-h4-dry', `${READY}setInterval(()=>{},1000)`);
    for (const shut of [EffectsDoor.closed('dry-run'), EffectsDoor.closed('plan'), EffectsDoor.whileLeading(() => false)]) {
      const handler = makeKillHandler({ door: shut });
      await expect(handler(kill([victim]), ctx)).rejects.toBeInstanceOf(EffectRefusedError);
      expect(shut.refused).toBe(1);
    }
    expect(alive(victim)).toBe(true);
  });
});
