/**
 * Leader election outside Kubernetes: an exclusive lock file created with `wx` (O_CREAT|O_EXCL),
 * holding pid, hostname and start time. A lock whose pid is dead on this host, or whose holder cannot be read
 * (torn, garbage, unreadable) and that is older than the lease duration, is stale and taken over under a second
 * exclusive "takeover" file, so two contenders cannot both remove it. The files themselves are
 * `ExclusiveFile`s of the state client.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import { sleepUnlessAborted as sleep } from '../../clients/http/backoff.js';
import { pidAlive } from '../../clients/process/signal.js';
import { ExclusiveFile } from '../../clients/state/index.js';
import { LoopingElector } from './looping-elector.js';
import type { ElectionLogger, LeaderCallbacks, LeaderElector } from './types.js';

export interface LockFileElectorOptions {
  path: string;
  identity: string;
  /** How often a standby retries and a leader re-checks that the file is still ours. */
  retryPeriodMs?: number;
  /** A lock whose holder cannot be read is taken over once older than this (the lease duration); default 15 s. */
  unreadableStaleAfterMs?: number;
  callbacks?: LeaderCallbacks;
  logger?: ElectionLogger;
  /** pid liveness check; injectable for tests. */
  isAlive?: (pid: number) => boolean;
  /** This process's identity on the host (overridable so one test can act as two processes). */
  pid?: number;
  host?: string;
  startedAt?: number;
}

const lockSchema = z.object({
  pid: z.number().int().positive(),
  hostname: z.string(),
  startedAt: z.number(),
  identity: z.string(),
});
export type LockContent = z.infer<typeof lockSchema>;

/** A lock or guard file younger than this may still be being written by its creator. */
const DEFAULT_UNREADABLE_STALE_MS = 15_000;

export class LockFileElector extends LoopingElector implements LeaderElector {
  readonly kind = 'lockfile' as const;
  private readonly lock: ExclusiveFile;
  /** only its holder may remove a stale lock */
  private readonly guard: ExclusiveFile;
  private readonly retryPeriodMs: number;
  private readonly unreadableStaleAfterMs: number;
  private readonly isAlive: (pid: number) => boolean;
  private readonly me: LockContent;
  private holder: string | null = null;
  private readonly onExit = (): void => this.removeIfOurs();

  constructor(opts: LockFileElectorOptions) {
    super(opts);
    this.lock = new ExclusiveFile(opts.path);
    this.guard = new ExclusiveFile(`${opts.path}.takeover`);
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    this.unreadableStaleAfterMs = opts.unreadableStaleAfterMs ?? DEFAULT_UNREADABLE_STALE_MS;
    this.isAlive = opts.isAlive ?? pidAlive;
    this.me = {
      pid: opts.pid ?? process.pid,
      hostname: opts.host ?? hostname(),
      startedAt: opts.startedAt ?? Date.now(),
      identity: opts.identity,
    };
  }

  private get path(): string {
    return this.lock.path;
  }

  isLeader(): boolean {
    return this.leading;
  }

  currentHolder(): string | null {
    return this.leading ? this.identity : this.holder;
  }

  async tryAcquire(): Promise<boolean> {
    if (this.leading) return true;
    if (!this.acquireOnce()) return false;
    this.leading = true;
    this.holder = this.identity;
    // Release on any exit path, including process.exit() from the shutdown helper.
    process.once('exit', this.onExit);
    this.log.info({ lockFile: this.path, identity: this.identity }, 'Acquired controller lock file');
    this.callbacks.onStartedLeading?.();
    return true;
  }

  async release(): Promise<void> {
    await this.stop();
    if (!this.leading) return;
    this.leading = false;
    this.removeIfOurs();
    process.off('exit', this.onExit);
    this.log.info({ lockFile: this.path }, 'Released controller lock file');
  }

  describeHolder(): string | null {
    if (this.leading) return this.identity;
    const lock = this.readLock();
    if (lock === undefined) return null;
    if (lock === 'torn') {
      const age = this.lock.ageMs();
      return `unreadable lock file ${this.path}${age === null ? '' : ` (${Math.round(age / 1000)} s old; taken over once older than ${Math.round(this.unreadableStaleAfterMs / 1000)} s)`}`;
    }
    return `${lock.identity} (pid ${lock.pid} on ${lock.hostname}, since ${new Date(lock.startedAt).toISOString()}; lock file ${this.path})`;
  }

  /**
   * Reads the lock; undefined when absent, 'torn' when its holder cannot be read (being written, garbage, or a
   * file we may not read).
   */
  readLock(): LockContent | 'torn' | undefined {
    const read = this.lock.read(lockSchema);
    if (read.kind === 'missing') return undefined;
    return read.kind === 'ok' ? read.value : 'torn';
  }

  protected async run(): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted && !this.leading) {
      if (await this.tryAcquire()) break;
      await sleep(this.retryPeriodMs, signal);
    }
    // A leader keeps checking the file is still its own (someone may have deleted it by hand).
    while (!signal.aborted && this.leading) {
      await sleep(this.retryPeriodMs, signal);
      if (signal.aborted) return;
      const lock = this.readLock();
      if (lock === 'torn' || lock?.identity !== this.identity || lock.startedAt !== this.me.startedAt) {
        this.leading = false;
        process.off('exit', this.onExit);
        const reason = lock === undefined ? 'lock file removed' : 'lock file taken over';
        this.log.warn({ lockFile: this.path, reason }, 'Lost controller lock file');
        this.callbacks.onStoppedLeading?.(reason);
        return;
      }
    }
  }

  private acquireOnce(): boolean {
    if (this.lock.create(this.me)) return true;
    const lock = this.readLock();
    if (lock === undefined) return this.lock.create(this.me);
    if (lock !== 'torn') this.holder = lock.identity;
    if (!this.isStale(lock)) return false;
    return this.takeOver(lock);
  }

  private isStale(lock: LockContent | 'torn'): boolean {
    // a holder that cannot be read had a lease period to finish writing it
    if (lock === 'torn') return (this.lock.ageMs() ?? 0) > this.unreadableStaleAfterMs;
    return this.writerGone(lock);
  }

  /**
   * Whether the process that wrote a lock or guard file is gone. Another host's pid cannot be checked from here:
   * never. Our own pid with another start time is a previous incarnation (containers restart as pid 1, so the
   * pid alone says nothing there: pid 1 is always alive, it is us).
   */
  private writerGone(content: LockContent): boolean {
    if (content.hostname !== this.me.hostname) return false;
    if (content.pid === this.me.pid) return content.startedAt !== this.me.startedAt;
    return !this.isAlive(content.pid);
  }

  /**
   * Only the holder of `<path>.takeover` may remove a stale lock; it re-reads the lock under that
   * guard so a fresh lock written by a faster contender is never removed.
   */
  private takeOver(stale: LockContent | 'torn'): boolean {
    if (!this.guard.create(this.me)) {
      this.clearAbandonedGuard();
      return false;
    }
    try {
      const again = this.readLock();
      const unchanged =
        again === 'torn' ? stale === 'torn' : again !== undefined && stale !== 'torn' && again.pid === stale.pid && again.startedAt === stale.startedAt;
      if (again !== undefined && !unchanged) return false;
      if (again !== undefined) {
        this.log.warn(
          stale === 'torn'
            ? { lockFile: this.path, keptAs: `${this.path}.stale`, reason: `holder unreadable for more than ${Math.round(this.unreadableStaleAfterMs / 1000)} s` }
            : { lockFile: this.path, keptAs: `${this.path}.stale`, stalePid: stale.pid, reason: 'holder process is gone' },
          'Taking over a stale controller lock file',
        );
        // rename, not unlink: keeps the evidence for an operator and is atomic.
        this.lock.moveTo(`${this.path}.stale`);
      }
      return this.lock.create(this.me);
    } finally {
      this.guard.removeQuietly();
    }
  }

  /**
   * A takeover guard whose writer died mid-takeover would block everyone forever: a dead holder's guard goes at
   * once — by the same rule as a stale lock, so a previous incarnation with our pid (a container's pid 1 killed
   * mid-takeover) counts as dead — and one whose holder cannot be read once it is older than a lease period.
   */
  private clearAbandonedGuard(): void {
    const read = this.guard.read(lockSchema);
    // gone (its owner finished meanwhile) or not ours to look at
    if (read.kind === 'missing' || read.kind === 'unreadable') return;
    const abandoned = read.kind === 'ok' ? this.writerGone(read.value) : (this.guard.ageMs() ?? 0) > this.unreadableStaleAfterMs;
    if (abandoned) this.guard.removeQuietly();
  }

  private removeIfOurs(): void {
    const lock = this.readLock();
    if (lock && lock !== 'torn' && lock.identity === this.identity && lock.startedAt === this.me.startedAt) this.lock.removeQuietly();
  }
}
