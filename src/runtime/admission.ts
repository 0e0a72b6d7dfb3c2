import type { Action } from '../model/index.js';
import { backoffDelay } from './backoff.js';

export interface AdmissionOptions {
  /** reconcilers whose actions wait while degraded */
  pausedWhileDegraded: readonly string[];
  degraded: () => boolean;
  deliveryMaxPerPass: number;
  backoffMinMs: number;
  backoffMaxMs: number;
}

/**
 * Which planned actions may run now. Degrade pauses non-critical concerns; delivery posts are capped per pass
 * so a backlog never floods a channel; a key whose Discord posts failed backs those posts off on their own,
 * so an outage never holds back the key's other concerns.
 */
export class Admission {
  private deliveryBudget = 0;
  private readonly discordBackoff = new Map<string, { failures: number; until: number }>();

  constructor(private readonly o: AdmissionOptions) {}

  /** A new pass (a full sync): the delivery cap starts over. */
  newPass(): void {
    this.deliveryBudget = this.o.deliveryMaxPerPass;
  }

  admit(key: string, actions: readonly Action[], mode: 'apply' | 'plan'): { admitted: Action[]; deferred: Action[] } {
    const degraded = this.o.degraded();
    const discordWaits = (this.discordBackoff.get(key)?.until ?? 0) > Date.now();
    const admitted: Action[] = [];
    const deferred: Action[] = [];
    for (const a of actions) {
      if (degraded && this.o.pausedWhileDegraded.includes(a.reconciler)) deferred.push(a);
      else if (a.type === 'discord.post' && discordWaits && mode === 'apply') deferred.push(a);
      else if (a.type === 'discord.post' && a.purpose === 'delivery') {
        if (this.deliveryBudget > 0) {
          if (mode === 'apply') this.deliveryBudget -= 1;
          admitted.push(a);
        } else deferred.push(a);
      } else admitted.push(a);
    }
    return { admitted, deferred };
  }

  discordSucceeded(key: string): void {
    this.discordBackoff.delete(key);
  }

  /** Records a Discord-only failure of a key; returns the delay before its posts are tried again. */
  discordFailed(key: string): { failures: number; delayMs: number } {
    const failures = (this.discordBackoff.get(key)?.failures ?? 0) + 1;
    const delayMs = backoffDelay(failures, this.o.backoffMinMs, this.o.backoffMaxMs);
    this.discordBackoff.set(key, { failures, until: Date.now() + delayMs });
    return { failures, delayMs };
  }
}
