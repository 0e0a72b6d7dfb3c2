import type { LeaderCallbacks, LeaderElector } from './types.js';

/** For `--no-leader-election` and the sandbox: this process always leads. */
export class SingleElector implements LeaderElector {
  readonly kind = 'single' as const;
  private leading = false;

  constructor(
    readonly identity: string,
    private readonly callbacks: LeaderCallbacks = {},
  ) {}

  isLeader(): boolean {
    return this.leading;
  }

  currentHolder(): string | null {
    return this.leading ? this.identity : null;
  }

  tryAcquire(): Promise<boolean> {
    if (!this.leading) {
      this.leading = true;
      this.callbacks.onStartedLeading?.();
    }
    return Promise.resolve(true);
  }

  start(): void {
    void this.tryAcquire();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  release(): Promise<void> {
    this.leading = false;
    return Promise.resolve();
  }
}
