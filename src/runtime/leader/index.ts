/**
 * Picks the elector for where we run: a Lease in Kubernetes, a lock file elsewhere, or none when
 * explicitly disabled. The CLI builds it once and hands `isLeader()` to the executor.
 */
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { currentNamespace } from '../../clients/kubernetes/environment.js';
import { defaultIdentity } from './identity.js';
import { LeaseElector } from './lease-elector.js';
import { LockFileElector } from './lock-file-elector.js';
import { SingleElector } from './single-elector.js';
import { fromSeconds } from './timing.js';
import type { ElectionLogger, LeaderCallbacks, LeaderElector } from './types.js';

export interface ElectionSettings {
  /** 'auto' = lease when a KubeConfig is given, else lock file. */
  mode?: 'auto' | 'lease' | 'lockfile' | 'none';
  leaseName: string;
  leaseNamespace?: string | undefined;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  /** MC_LOCK_FILE; defaults to `<stateDir>/controller.lock`. */
  lockFile?: string | undefined;
  stateDir?: string | undefined;
  identity?: string;
}

export interface ElectorDeps {
  kubeConfig?: KubeConfig | undefined;
  callbacks?: LeaderCallbacks;
  logger?: ElectionLogger;
}

/**
 * Throws LeaderElectionConfigError on bad timing (lease > renew > 1.2 × retry). The Lease client (and with it
 * the Kubernetes client library) is loaded only when a Lease is used.
 */
export async function createElector(settings: ElectionSettings, deps: ElectorDeps = {}): Promise<LeaderElector> {
  const identity = settings.identity ?? defaultIdentity();
  const timing = fromSeconds(settings);
  const mode = settings.mode ?? 'auto';
  if (mode === 'none') return new SingleElector(identity, deps.callbacks);
  if (mode === 'lease' || (mode === 'auto' && deps.kubeConfig)) {
    if (!deps.kubeConfig) throw new Error('leader election mode "lease" needs a Kubernetes configuration');
    const namespace = settings.leaseNamespace ?? currentNamespace(deps.kubeConfig);
    const { createLeaseClient } = await import('../../clients/kubernetes/lease.js');
    return new LeaseElector({
      client: createLeaseClient(deps.kubeConfig, namespace, settings.leaseName),
      identity,
      timing,
      ...(deps.callbacks ? { callbacks: deps.callbacks } : {}),
      ...(deps.logger ? { logger: deps.logger } : {}),
    });
  }
  const path = settings.lockFile ?? join(settings.stateDir ?? '.', 'controller.lock');
  return new LockFileElector({
    path,
    identity,
    retryPeriodMs: timing.retryPeriodMs,
    unreadableStaleAfterMs: timing.leaseDurationMs,
    ...(deps.callbacks ? { callbacks: deps.callbacks } : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}

export { LeaseElector, type LeaseElectorOptions } from './lease-elector.js';
export { LockFileElector, type LockFileElectorOptions } from './lock-file-elector.js';
export { pidAlive } from '../../clients/process/signal.js';
export { SingleElector } from './single-elector.js';
export { PassiveElector } from './passive-elector.js';
export { defaultIdentity } from './identity.js';
export { DEFAULT_LEASE_TIMING, validateLeaseTiming, fromSeconds, type LeaseTiming } from './timing.js';
export { LeaderElectionConfigError, type LeaderCallbacks, type LeaderElector, type ElectionLogger } from './types.js';
