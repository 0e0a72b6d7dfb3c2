import type { LeaderElector } from './types.js';

/**
 * A dry run's elector: it never leads and never touches the lock file or the Lease, so a dry run beside the real
 * controller neither blocks it nor writes anything of its own.
 */
export class PassiveElector implements LeaderElector {
  readonly kind = 'passive' as const;

  constructor(readonly identity: string) {}

  isLeader(): boolean {
    return false;
  }

  currentHolder(): string | null {
    return null;
  }

  tryAcquire(): Promise<boolean> {
    return Promise.resolve(false);
  }

  start(): void {}

  stop(): Promise<void> {
    return Promise.resolve();
  }

  release(): Promise<void> {
    return Promise.resolve();
  }
}
