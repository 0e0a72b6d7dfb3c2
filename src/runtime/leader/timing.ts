import { LeaderElectionConfigError } from './types.js';

export interface LeaseTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** controller-runtime's defaults (controller-practices §2.7). */
export const DEFAULT_LEASE_TIMING: LeaseTiming = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** client-go's JitterFactor: acquire retries wait retryPeriod × [1, 2.2). */
export const JITTER_FACTOR = 1.2;

/**
 * client-go's rule `leaseDuration > renewDeadline > 1.2 × retryPeriod`: a leader must give up
 * (renew deadline) before anyone may take over (lease duration), with room for one jittered retry.
 */
export function validateLeaseTiming(t: LeaseTiming): LeaseTiming {
  const positive = [t.leaseDurationMs, t.renewDeadlineMs, t.retryPeriodMs].every((v) => Number.isFinite(v) && v > 0);
  if (!positive) throw new LeaderElectionConfigError('leader election: lease duration, renew deadline and retry period must be positive');
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) {
    throw new LeaderElectionConfigError(
      `leader election: lease duration (${t.leaseDurationMs / 1000}s) must be greater than the renew deadline (${t.renewDeadlineMs / 1000}s)`,
    );
  }
  if (!(t.renewDeadlineMs > JITTER_FACTOR * t.retryPeriodMs)) {
    throw new LeaderElectionConfigError(
      `leader election: renew deadline (${t.renewDeadlineMs / 1000}s) must be greater than ${JITTER_FACTOR} × retry period (${t.retryPeriodMs / 1000}s)`,
    );
  }
  return t;
}

export function fromSeconds(s: { leaseDurationSeconds: number; renewDeadlineSeconds: number; retryPeriodSeconds: number }): LeaseTiming {
  return validateLeaseTiming({
    leaseDurationMs: s.leaseDurationSeconds * 1000,
    renewDeadlineMs: s.renewDeadlineSeconds * 1000,
    retryPeriodMs: s.retryPeriodSeconds * 1000,
  });
}
