/** What `/healthz` reads: bumped by every reconcile and by a timer, since liveness means the event loop turns, not that work arrives. */
export class Heartbeat {
  /** epoch ms of the last beat */
  at = Date.now();
  private timer: NodeJS.Timeout | null = null;

  beat(): void {
    this.at = Date.now();
  }

  /** Ticks even when idle; never keeps the process alive. */
  start(everyMs = 5_000): void {
    this.timer = setInterval(() => this.beat(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
