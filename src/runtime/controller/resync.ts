import type { Logger } from 'pino';
import { jittered } from '../backoff.js';

export interface ResyncDeps {
  /** `MC_RESYNC_SECONDS`, ±10 % per round */
  periodMs: number;
  /** list everything and enqueue every key */
  resync(): Promise<void>;
  logger: Logger;
}

/** The safety net: a full listing on a jittered timer, so convergence never depends on a stream or a push. */
export class ResyncTimer {
  /** when the next resync is due (null before the first) */
  nextAt: number | null = null;
  /** the running resync, awaited by `settle` so nothing outlives a shutdown */
  running: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(private readonly d: ResyncDeps) {}

  /** Resyncs now (unless one runs already), then arms the timer for the next one. */
  async run(): Promise<void> {
    if (this.running) return;
    const run = (async () => {
      try {
        await this.d.resync();
      } catch (err) {
        if (!this.stopped) this.d.logger.warn({ err: (err as Error).message }, 'resync failed; keeping the last good view');
      }
    })();
    this.running = run;
    await run;
    this.running = null;
    if (this.stopped) return;
    const delay = jittered(this.d.periodMs);
    this.nextAt = Date.now() + delay;
    this.timer = setTimeout(() => void this.run(), delay);
    this.timer.unref();
  }

  /** A gateway restart or similar: list everything now instead of at the next timer. */
  now(): void {
    if (this.timer) clearTimeout(this.timer);
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
