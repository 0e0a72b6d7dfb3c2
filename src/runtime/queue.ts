import pLimit, { type LimitFunction } from 'p-limit';
import { backoffDelay } from './backoff.js';

export interface ProcessResult {
  requeueAfterMs?: number;
}

export interface QueueHooks {
  onAdd?(key: string): void;
  onDepth?(depth: number): void;
  onRetry?(key: string, failures: number, delayMs: number, error: unknown): void;
  onQueueDuration?(ms: number): void;
}

export interface QueueOptions {
  concurrency: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  random?: () => number;
  hooks?: QueueHooks;
}

/**
 * Level-triggered work queue of keys (client-go semantics): a key waiting to run is not added twice;
 * a key added while it runs runs once more afterwards; one key never runs twice at once; failures back
 * off per key (full jitter) and a success forgets the count.
 */
export class WorkQueue {
  private readonly limit: LimitFunction;
  private readonly waiting = new Map<string, number>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly backoffUntil = new Map<string, number>();
  private readonly idleWaiters: (() => void)[] = [];
  private stopped = false;

  constructor(
    private readonly work: (key: string) => Promise<ProcessResult | void>,
    private readonly opts: QueueOptions,
  ) {
    this.limit = pLimit(opts.concurrency);
  }

  get depth(): number {
    return this.waiting.size;
  }

  get busy(): boolean {
    return this.waiting.size > 0 || this.processing.size > 0;
  }

  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  add(key: string): void {
    if (this.stopped) return;
    // A failing key waits out its backoff even when resyncs or events ask for it sooner.
    if ((this.backoffUntil.get(key) ?? 0) > Date.now()) return;
    this.opts.hooks?.onAdd?.(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.set(key, Date.now());
    this.opts.hooks?.onDepth?.(this.waiting.size);
    void this.limit(() => this.run(key));
  }

  /** Schedules a key; an earlier schedule for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.backoffUntil.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Resolves once nothing waits or runs (scheduled keys do not count). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops intake and timers; resolves when in-flight work finished or the deadline passed. */
  async stop(deadlineMs: number): Promise<boolean> {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.limit.clearQueue();
    this.waiting.clear();
    this.dirty.clear();
    if (this.processing.size === 0) {
      this.idleWaiters.splice(0).forEach((resolve) => resolve());
      return true;
    }
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.idle().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), deadlineMs);
      }),
    ]);
    clearTimeout(timer);
    return drained;
  }

  private async run(key: string): Promise<void> {
    const enqueuedAt = this.waiting.get(key);
    if (enqueuedAt === undefined) return; // cleared by stop()
    this.waiting.delete(key);
    this.processing.add(key);
    this.opts.hooks?.onDepth?.(this.waiting.size);
    this.opts.hooks?.onQueueDuration?.(Date.now() - enqueuedAt);
    try {
      const result = await this.work(key);
      this.failures.delete(key);
      this.backoffUntil.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      const delay = backoffDelay(n, this.opts.backoffMinMs, this.opts.backoffMaxMs, this.opts.random);
      this.opts.hooks?.onRetry?.(key, n, delay, error);
      this.addAfter(key, delay);
      this.backoffUntil.set(key, Date.now() + delay);
    } finally {
      this.processing.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      if (!this.busy) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    }
  }
}
