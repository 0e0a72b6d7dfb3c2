/**
 * Lease-based leader election with client-go semantics (`tools/leaderelection`):
 * - acquire/renew by replacing the Lease with the resourceVersion we read (409 = lost race);
 * - a foreign holder may be displaced only after its record has stayed unchanged for its
 *   leaseDuration by OUR observation clock (no cross-host clock comparison);
 * - a leader that cannot renew within renewDeadline steps down (< leaseDuration, so before
 *   anyone may take over); losing leadership ends the loop — the CLI exits the process.
 */
import { LeaseConflictError, type LeaseClient, type LeaseRecord } from '../../clients/kubernetes/lease-types.js';
import { sleepUnlessAborted as sleep } from '../../clients/http/backoff.js';
import { JITTER_FACTOR, validateLeaseTiming, type LeaseTiming } from './timing.js';
import { LoopingElector } from './looping-elector.js';
import type { ElectionLogger, LeaderCallbacks, LeaderElector } from './types.js';

export interface LeaseElectorOptions {
  client: LeaseClient;
  identity: string;
  timing: LeaseTiming;
  callbacks?: LeaderCallbacks;
  logger?: ElectionLogger;
  /** Wall clock written into the Lease (epoch ms). */
  now?: () => number;
  /** Monotonic observation clock (ms) used for every expiry decision. */
  monotonic?: () => number;
  /** [0,1) source for retry jitter; injectable for tests. */
  random?: () => number;
}

interface Observation {
  record: LeaseRecord;
  /** monotonic ms when this exact record was first seen */
  at: number;
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.renewTime === b.renewTime &&
    a.acquireTime === b.acquireTime &&
    a.leaseTransitions === b.leaseTransitions &&
    a.leaseDurationSeconds === b.leaseDurationSeconds
  );
}

export class LeaseElector extends LoopingElector implements LeaderElector {
  readonly kind = 'lease' as const;
  private readonly client: LeaseClient;
  private readonly timing: LeaseTiming;
  private readonly now: () => number;
  private readonly mono: () => number;
  private readonly random: () => number;

  private observed: Observation | undefined;
  private lastRenewAt = Number.NEGATIVE_INFINITY;

  constructor(opts: LeaseElectorOptions) {
    super(opts);
    this.client = opts.client;
    this.timing = validateLeaseTiming(opts.timing);
    this.now = opts.now ?? Date.now;
    this.mono = opts.monotonic ?? (() => performance.now());
    this.random = opts.random ?? Math.random;
  }

  isLeader(): boolean {
    // A hung renew must not leave us "leader" past the deadline the loop has not noticed yet.
    return this.leading && this.mono() - this.lastRenewAt < this.timing.renewDeadlineMs;
  }

  currentHolder(): string | null {
    if (this.leading) return this.identity;
    return this.observed?.record.holderIdentity ?? null;
  }

  async tryAcquire(): Promise<boolean> {
    const ok = await this.attempt(this.timing.renewDeadlineMs);
    if (ok && !this.leading) this.becomeLeader();
    return ok;
  }

  override async stop(): Promise<void> {
    await super.stop();
    this.leading = false;
  }

  async release(): Promise<void> {
    const wasLeading = this.leading;
    await this.stop();
    const mine = this.observed?.record;
    if (!wasLeading || !mine || mine.holderIdentity !== this.identity) return;
    const at = this.now();
    try {
      // client-go's release: empty holder, 1 s duration, transitions kept — a standby takes over at once.
      await this.client.replace(
        { ...mine, holderIdentity: null, leaseDurationSeconds: 1, acquireTime: at, renewTime: at },
        AbortSignal.timeout(Math.ceil(this.timing.renewDeadlineMs)),
      );
      this.log.info({ lease: `${this.client.namespace}/${this.client.name}`, identity: this.identity }, 'Released leader lease');
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'Could not release the leader lease; standbys wait for it to expire');
    }
  }

  protected async run(): Promise<void> {
    const signal = this.stopper.signal;
    while (!signal.aborted && !this.leading) {
      if (await this.attempt(this.timing.renewDeadlineMs)) {
        this.becomeLeader();
        break;
      }
      await sleep(this.timing.retryPeriodMs * (1 + this.random() * JITTER_FACTOR), signal);
    }
    while (!signal.aborted && this.leading) {
      await sleep(this.timing.retryPeriodMs, signal);
      if (signal.aborted) return;
      const remaining = this.timing.renewDeadlineMs - (this.mono() - this.lastRenewAt);
      const ok = remaining > 0 && (await this.attempt(remaining));
      if (signal.aborted) return;
      if (ok) continue;
      const holder = this.observed?.record.holderIdentity ?? null;
      if (holder !== null && holder !== this.identity) {
        this.lose(`lease taken by ${holder}`);
      } else if (this.mono() - this.lastRenewAt >= this.timing.renewDeadlineMs) {
        this.lose(`failed to renew within ${this.timing.renewDeadlineMs / 1000}s`);
      }
    }
  }

  private becomeLeader(): void {
    this.leading = true;
    this.log.info({ lease: `${this.client.namespace}/${this.client.name}`, identity: this.identity }, 'Acquired leader lease');
    this.callbacks.onStartedLeading?.();
  }

  private lose(reason: string): void {
    this.leading = false;
    this.stopper.abort();
    this.log.warn({ identity: this.identity, reason }, 'Lost leader lease');
    this.callbacks.onStoppedLeading?.(reason);
  }

  /** One tryAcquireOrRenew bounded by `budgetMs`; any error counts as "not this time". */
  private async attempt(budgetMs: number): Promise<boolean> {
    try {
      const signal = AbortSignal.any([this.stopper.signal, AbortSignal.timeout(Math.max(1, Math.ceil(budgetMs)))]);
      const ok = await this.tryAcquireOrRenew(signal);
      if (ok) this.lastRenewAt = this.mono();
      return ok;
    } catch (err) {
      if (err instanceof LeaseConflictError) {
        this.log.debug({ identity: this.identity }, 'Lost a lease write race');
      } else {
        this.log.warn({ err: (err as Error).message }, 'Leader lease request failed');
      }
      return false;
    }
  }

  private observe(record: LeaseRecord, at: number): void {
    const previous = this.observed;
    if (previous && sameRecord(previous.record, record)) {
      this.observed = { record, at: previous.at };
      return;
    }
    this.observed = { record, at };
    if (previous?.record.holderIdentity !== record.holderIdentity) this.callbacks.onNewLeader?.(record.holderIdentity);
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const wall = this.now();
    const durationSeconds = Math.ceil(this.timing.leaseDurationMs / 1000);
    const current = await this.client.get(signal);
    if (!current) {
      const created = await this.client.create(
        { holderIdentity: this.identity, leaseDurationSeconds: durationSeconds, acquireTime: wall, renewTime: wall, leaseTransitions: 0 },
        signal,
      );
      this.observe(created, this.mono());
      return true;
    }
    this.observe(current, this.mono());
    const seen = this.observed as Observation;
    const holder = current.holderIdentity;
    const ours = holder === this.identity;
    const validForMs = (current.leaseDurationSeconds > 0 ? current.leaseDurationSeconds * 1000 : this.timing.leaseDurationMs);
    if (holder !== null && !ours && seen.at + validForMs > this.mono()) return false;

    const next: LeaseRecord = {
      holderIdentity: this.identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: ours ? (current.acquireTime ?? wall) : wall,
      renewTime: wall,
      leaseTransitions: ours ? current.leaseTransitions : current.leaseTransitions + 1,
      resourceVersion: current.resourceVersion,
    };
    const stored = await this.client.replace(next, signal);
    this.observe(stored, this.mono());
    return true;
  }
}
