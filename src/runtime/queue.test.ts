import { afterEach, describe, expect, it } from 'vitest';
import { WorkQueue, type ProcessResult, type QueueOptions } from './queue.js';

/** Real timers with small backoffs: the queue's semantics, not its timing, are under test. */

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `cond` holds; bounded, so a broken queue fails the test instead of hanging it. */
async function until(cond: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(1);
  }
}

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { opened, open };
}

/** Resolves true if `p` settles within ms, false otherwise. */
const settlesWithin = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.then(() => true), sleep(ms).then(() => false)]);

interface Harness {
  q: WorkQueue;
  runs: string[];
  active: Map<string, number>;
  maxActive: { total: number; perKey: number };
  retries: { key: string; n: number; delay: number }[];
  adds: string[];
}

const queues: WorkQueue[] = [];
afterEach(async () => {
  for (const q of queues.splice(0)) await q.stop(500);
});

function harness(
  work: (key: string, nth: number) => Promise<ProcessResult | void>,
  opts: Partial<QueueOptions> = {},
): Harness {
  const h: Omit<Harness, 'q'> = { runs: [], active: new Map(), maxActive: { total: 0, perKey: 0 }, retries: [], adds: [] };
  let total = 0;
  const q = new WorkQueue(
    async (key) => {
      h.runs.push(key);
      total++;
      const perKey = (h.active.get(key) ?? 0) + 1;
      h.active.set(key, perKey);
      h.maxActive.total = Math.max(h.maxActive.total, total);
      h.maxActive.perKey = Math.max(h.maxActive.perKey, perKey);
      try {
        return await work(key, h.runs.filter((k) => k === key).length);
      } finally {
        total--;
        h.active.set(key, (h.active.get(key) ?? 1) - 1);
      }
    },
    {
      concurrency: 1,
      backoffMinMs: 5,
      backoffMaxMs: 40,
      random: () => 1,
      ...opts,
      hooks: {
        onAdd: (k) => h.adds.push(k),
        onRetry: (key, n, delay) => h.retries.push({ key, n, delay }),
        ...opts.hooks,
      },
    },
  );
  queues.push(q);
  return { ...h, q } as Harness;
}

const count = (runs: string[], key: string) => runs.filter((k) => k === key).length;

describe('WorkQueue dedup and re-run', () => {
  it('runs a waiting key once however often it is added', async () => {
    const g = gate();
    const h = harness(async (key) => {
      if (key === 'blocker') await g.opened;
    });
    h.q.add('blocker');
    await until(() => h.runs.length === 1);
    for (let i = 0; i < 5; i++) h.q.add('b');
    expect(h.q.depth).toBe(1);
    g.open();
    await h.q.idle();
    expect(count(h.runs, 'b')).toBe(1);
  });

  it('a key added while it runs runs exactly once more afterwards', async () => {
    const g = gate();
    const h = harness(async (_key, nth) => {
      if (nth === 1) await g.opened;
    });
    h.q.add('a');
    await until(() => h.runs.length === 1);
    h.q.add('a');
    h.q.add('a');
    h.q.add('a');
    expect(h.q.depth).toBe(0); // marked dirty, not queued beside the running one
    g.open();
    await h.q.idle();
    expect(count(h.runs, 'a')).toBe(2);
    expect(h.maxActive.perKey).toBe(1);
  });

  it('never runs two instances of one key at once under heavy adds', async () => {
    const h = harness(() => sleep(2), { concurrency: 8 });
    for (let i = 0; i < 60; i++) {
      for (const k of ['a', 'b', 'c']) h.q.add(k);
      if (i % 5 === 0) await sleep(1);
    }
    await h.q.idle();
    expect(h.maxActive.perKey).toBe(1);
    for (const k of ['a', 'b', 'c']) expect(count(h.runs, k)).toBeGreaterThanOrEqual(1);
  });

  it.each([1, 2, 3])('respects concurrency %i', async (concurrency) => {
    const h = harness(() => sleep(5), { concurrency });
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    for (const k of keys) h.q.add(k);
    expect(h.q.depth).toBe(8);
    expect(h.q.busy).toBe(true);
    await h.q.idle();
    expect(h.maxActive.total).toBe(concurrency);
    expect([...h.runs].sort()).toEqual(keys);
    expect(h.q.busy).toBe(false);
    expect(h.q.depth).toBe(0);
  });

  it('requeueAfterMs schedules the key again', async () => {
    const h = harness(async (_k, nth) => (nth < 3 ? { requeueAfterMs: 5 } : {}));
    h.q.add('a');
    await until(() => h.runs.length === 3);
    await sleep(20);
    expect(count(h.runs, 'a')).toBe(3);
  });
});

describe('WorkQueue backoff', () => {
  it('retries a failing key with growing, capped delays', async () => {
    const h = harness(async () => {
      throw new Error('boom');
    });
    h.q.add('a');
    await until(() => h.retries.length >= 6);
    await h.q.stop(100);
    // random = 1: min·2^(n-1) capped at max (5, 10, 20, 40, 40, …)
    expect(h.retries.slice(0, 6).map((r) => [r.n, r.delay])).toEqual([
      [1, 5],
      [2, 10],
      [3, 20],
      [4, 40],
      [5, 40],
      [6, 40],
    ]);
    expect(h.q.failureCount('a')).toBeGreaterThanOrEqual(6);
  });

  it('a success forgets the failure count', async () => {
    const h = harness(async (_k, nth) => {
      if (nth <= 3) throw new Error(`fail ${nth}`);
    });
    h.q.add('a');
    await until(() => count(h.runs, 'a') === 4); // 3 failures, then a success
    await h.q.idle();
    expect(h.q.failureCount('a')).toBe(0);
    expect(h.retries.map((r) => r.n)).toEqual([1, 2, 3]);
    // no backoff holds the key any more: an add runs it at once
    h.q.add('a');
    expect(h.q.depth).toBe(1);
    await h.q.idle();
    expect(count(h.runs, 'a')).toBe(5);
  });

  it('restarts backoff at the minimum after a success', async () => {
    const outcomes = ['fail', 'fail', 'ok', 'fail'];
    const h = harness(async (_k, nth) => {
      if (outcomes[nth - 1] === 'fail') throw new Error('x');
    });
    h.q.add('a');
    await until(() => count(h.runs, 'a') === 3);
    await h.q.idle();
    h.q.add('a');
    await until(() => h.retries.length === 3);
    expect(h.retries.map((r) => [r.n, r.delay])).toEqual([
      [1, 5],
      [2, 10],
      [1, 5],
    ]);
  });

  it('keeps failure counts per key', async () => {
    const h = harness(async (key, nth) => {
      if (key === 'bad' || (key === 'flaky' && nth === 1)) throw new Error(key);
    }, { concurrency: 2 });
    h.q.add('bad');
    h.q.add('flaky');
    h.q.add('good');
    await until(() => h.retries.filter((r) => r.key === 'bad').length >= 3 && count(h.runs, 'flaky') >= 2);
    expect(h.q.failureCount('good')).toBe(0);
    expect(h.q.failureCount('flaky')).toBe(0);
    expect(h.q.failureCount('bad')).toBeGreaterThanOrEqual(3);
  });

  it('a failing key ignores add() during its backoff and runs once when it ends', async () => {
    let failedAt = 0;
    const h = harness(
      async (_k, nth) => {
        if (nth === 1) {
          failedAt = Date.now();
          throw new Error('first');
        }
      },
      { backoffMinMs: 150, backoffMaxMs: 150 },
    );
    h.q.add('a');
    await until(() => h.retries.length === 1);
    const addsBefore = h.adds.length;
    for (let i = 0; i < 5; i++) {
      h.q.add('a');
      await sleep(2);
    }
    expect(count(h.runs, 'a')).toBe(1);
    expect(h.q.depth).toBe(0);
    expect(h.adds.length).toBe(addsBefore); // not even counted as an add
    await until(() => count(h.runs, 'a') === 2);
    const retriedAfter = Date.now() - failedAt;
    expect(retriedAfter).toBeGreaterThanOrEqual(130); // generous: the backoff is 150 ms
    await h.q.idle();
    await sleep(40);
    expect(count(h.runs, 'a')).toBe(2);
  });

  it('a key marked dirty during a failing run waits for its backoff instead of running at once', async () => {
    const g = gate();
    const h = harness(
      async (_k, nth) => {
        if (nth === 1) {
          await g.opened;
          throw new Error('first');
        }
      },
      { backoffMinMs: 150, backoffMaxMs: 150 },
    );
    h.q.add('a');
    await until(() => h.runs.length === 1);
    h.q.add('a'); // dirty
    g.open();
    await until(() => h.retries.length === 1);
    await sleep(15);
    expect(count(h.runs, 'a')).toBe(1);
    await until(() => count(h.runs, 'a') === 2);
    await h.q.idle();
    await sleep(40);
    expect(count(h.runs, 'a')).toBe(2);
  });
});

describe('WorkQueue addAfter', () => {
  it('runs a key after the delay', async () => {
    const h = harness(async () => undefined);
    const t0 = Date.now();
    h.q.addAfter('a', 20);
    expect(h.q.busy).toBe(false); // scheduled keys do not count as waiting
    await until(() => h.runs.length === 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(15);
  });

  it('delay <= 0 adds at once', async () => {
    const h = harness(async () => undefined);
    h.q.addAfter('a', 0);
    expect(h.q.depth).toBe(1);
    h.q.addAfter('b', -5);
    expect(h.q.depth).toBe(2);
    await h.q.idle();
    expect([...h.runs].sort()).toEqual(['a', 'b']);
  });

  it.each([
    ['earlier first', [10, 150]],
    ['later first', [150, 10]],
  ])('earliest schedule wins (%s) and the key runs once', async (_name, delays) => {
    const h = harness(async () => undefined);
    const t0 = Date.now();
    for (const d of delays) h.q.addAfter('a', d);
    await until(() => h.runs.length === 1);
    expect(Date.now() - t0).toBeLessThan(130);
    await sleep(170);
    expect(h.runs).toEqual(['a']);
  });
});

describe('WorkQueue idle', () => {
  it('resolves at once when nothing waits or runs, scheduled keys aside', async () => {
    const h = harness(async () => undefined);
    h.q.addAfter('later', 10_000);
    expect(await settlesWithin(h.q.idle(), 50)).toBe(true);
  });

  it('waits for running work and its dirty re-run', async () => {
    const g = gate();
    const h = harness(async (_k, nth) => {
      if (nth === 1) await g.opened;
    });
    h.q.add('a');
    await until(() => h.runs.length === 1);
    h.q.add('a');
    const idle = h.q.idle();
    expect(await settlesWithin(idle, 20)).toBe(false);
    g.open();
    await idle;
    expect(h.runs).toEqual(['a', 'a']);
  });

  it('several waiters all resolve', async () => {
    const h = harness(() => sleep(5));
    h.q.add('a');
    const all = Promise.all([h.q.idle(), h.q.idle(), h.q.idle()]);
    expect(await settlesWithin(all, 1_000)).toBe(true);
  });
});

describe('WorkQueue stop', () => {
  it('returns true at once when nothing runs', async () => {
    const h = harness(async () => undefined);
    expect(await h.q.stop(1_000)).toBe(true);
  });

  it('drains in-flight work before the deadline and drops waiting keys', async () => {
    const h = harness(() => sleep(20), { concurrency: 1 });
    h.q.add('a');
    h.q.add('b');
    h.q.add('c');
    await until(() => h.runs.length === 1);
    const t0 = Date.now();
    expect(await h.q.stop(2_000)).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await sleep(50);
    expect(h.runs).toEqual(['a']);
  });

  it('gives up at the deadline when work hangs', async () => {
    const g = gate();
    const h = harness(() => g.opened);
    h.q.add('a');
    await until(() => h.runs.length === 1);
    const t0 = Date.now();
    expect(await h.q.stop(30)).toBe(false);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(25);
    expect(took).toBeLessThan(1_000);
    g.open();
  });

  it('cancels scheduled keys and ignores later adds', async () => {
    const h = harness(async () => undefined);
    h.q.addAfter('a', 10);
    h.q.addAfter('b', 30);
    expect(await h.q.stop(100)).toBe(true);
    h.q.add('c');
    h.q.addAfter('d', 5);
    expect(h.q.depth).toBe(0);
    await sleep(60);
    expect(h.runs).toEqual([]);
  });

  it('schedules no retry or requeue for work finishing after stop', async () => {
    const g = gate();
    const h = harness(
      async (key) => {
        await g.opened;
        if (key === 'fails') throw new Error('late failure');
        return { requeueAfterMs: 5 };
      },
      { concurrency: 2 },
    );
    h.q.add('fails');
    h.q.add('requeues');
    await until(() => h.runs.length === 2);
    const stopped = h.q.stop(1_000);
    g.open();
    expect(await stopped).toBe(true);
    await sleep(60); // longer than backoffMax and the requeue delay
    expect(h.runs.sort()).toEqual(['fails', 'requeues']);
  });

  it('cancels a pending backoff retry', async () => {
    const h = harness(
      async () => {
        throw new Error('x');
      },
      { backoffMinMs: 20, backoffMaxMs: 20 },
    );
    h.q.add('a');
    await until(() => h.retries.length === 1);
    expect(await h.q.stop(100)).toBe(true);
    await sleep(60);
    expect(h.runs).toEqual(['a']);
  });

  // Regression: an idle() waiter registered while a key waits is never resolved when stop() clears the
  // waiting keys before any run starts (run() returns early without resolving idle waiters).
  it('resolves idle() waiters when stop() clears the waiting keys', async () => {
    const h = harness(async () => undefined);
    h.q.add('a');
    const idle = h.q.idle();
    expect(await h.q.stop(100)).toBe(true);
    expect(await settlesWithin(idle, 200)).toBe(true);
  });
});
