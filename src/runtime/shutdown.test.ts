import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installShutdown } from './shutdown.js';

function harness() {
  const emitter = new EventEmitter();
  const exits: number[] = [];
  let exited!: (code: number) => void;
  const exitedOnce = new Promise<number>((r) => (exited = r));
  const exit = (code: number) => {
    exits.push(code);
    exited(code);
  };
  return { emitter, exits, exitedOnce, exit };
}

describe('installShutdown', () => {
  it('runs the steps in order on the first signal, then exits 0', async () => {
    const h = harness();
    const order: string[] = [];
    const handle = installShutdown({
      emitter: h.emitter,
      exit: h.exit,
      deadlineMs: 5000,
      steps: [
        { name: 'stop intake', run: () => void order.push('stop intake') },
        { name: 'drain', run: async () => { await new Promise((r) => setTimeout(r, 50)); order.push('drain'); } },
        { name: 'flush', run: () => { order.push('flush'); throw new Error('disk full'); } },
        { name: 'release lease', run: async () => void order.push('release lease') },
      ],
    });
    h.emitter.emit('SIGTERM', 'SIGTERM');
    expect(handle.shuttingDown).toBe(true);
    expect(await h.exitedOnce).toBe(0);
    // A failing flush does not prevent the lease release.
    expect(order).toEqual(['stop intake', 'drain', 'flush', 'release lease']);
    expect(h.exits).toEqual([0]);
    expect(h.emitter.listenerCount('SIGTERM')).toBe(0);
  });

  it('bounds a hanging step by its budget and aborts its signal', async () => {
    const h = harness();
    let aborted = false;
    const handle = installShutdown({
      emitter: h.emitter,
      exit: h.exit,
      deadlineMs: 5000,
      steps: [
        {
          name: 'drain',
          timeoutMs: 100,
          run: (signal) =>
            new Promise<void>(() => {
              signal.addEventListener('abort', () => (aborted = true));
            }),
        },
        { name: 'release lease', run: () => undefined },
      ],
    });
    const outcomes = await handle.trigger('test');
    expect(outcomes.map((o) => [o.name, o.result])).toEqual([
      ['drain', 'timeout'],
      ['release lease', 'done'],
    ]);
    expect(aborted).toBe(true);
    expect(h.exits).toEqual([0]);
  });

  it('skips what no longer fits in the overall deadline', async () => {
    const h = harness();
    const handle = installShutdown({
      emitter: h.emitter,
      exit: h.exit,
      deadlineMs: 100,
      steps: [
        { name: 'drain', timeoutMs: 10_000, run: () => new Promise(() => {}) },
        { name: 'flush', run: () => new Promise(() => {}) },
      ],
    });
    const started = performance.now();
    const outcomes = await handle.trigger('test');
    expect(outcomes[0]!.result).toBe('timeout');
    expect(['skipped', 'timeout']).toContain(outcomes[1]!.result);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(h.exits).toEqual([0]);
  });

  it('exits 1 at once on a second signal', async () => {
    const h = harness();
    installShutdown({
      emitter: h.emitter,
      exit: h.exit,
      deadlineMs: 10_000,
      steps: [{ name: 'drain', run: () => new Promise((r) => setTimeout(r, 300)) }],
    });
    h.emitter.emit('SIGINT', 'SIGINT');
    h.emitter.emit('SIGTERM', 'SIGTERM');
    expect(h.exits).toEqual([1]);
    await new Promise((r) => setTimeout(r, 400));
    expect(h.exits).toEqual([1, 0]); // the real process would already be gone; the fake exit returns
  });

  it('dispose removes the handlers', () => {
    const h = harness();
    const handle = installShutdown({ emitter: h.emitter, exit: h.exit, deadlineMs: 10, steps: [] });
    handle.dispose();
    expect(h.emitter.listenerCount('SIGTERM') + h.emitter.listenerCount('SIGINT')).toBe(0);
  });
});
