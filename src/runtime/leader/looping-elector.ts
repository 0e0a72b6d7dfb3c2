import { silentLogger, type ElectionLogger, type LeaderCallbacks } from './types.js';

/**
 * What the Lease and the lock-file electors share: one background acquire-then-keep loop, started at most once
 * at a time, which `stop()` aborts and waits for (leadership is not given up: that is `release()`).
 */
export abstract class LoopingElector {
  readonly identity: string;
  protected readonly callbacks: LeaderCallbacks;
  protected readonly log: ElectionLogger;
  protected leading = false;
  /** aborted by stop() and when leadership is lost; a new start() begins with a fresh one */
  protected stopper = new AbortController();
  private loop: Promise<void> | undefined;

  protected constructor(opts: { identity: string; callbacks?: LeaderCallbacks | undefined; logger?: ElectionLogger | undefined }) {
    this.identity = opts.identity;
    this.callbacks = opts.callbacks ?? {};
    this.log = opts.logger ?? silentLogger;
  }

  /** The loop itself; ends when `this.stopper` aborts or leadership is lost. */
  protected abstract run(): Promise<void>;

  start(): void {
    if (this.loop) return;
    if (this.stopper.signal.aborted) this.stopper = new AbortController();
    this.loop = this.run().finally(() => {
      this.loop = undefined;
    });
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.loop;
  }
}
