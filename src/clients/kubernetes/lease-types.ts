/**
 * The Lease vocabulary without client-node, so the leader-election machinery can be loaded (lock-file mode,
 * every start) without paying for the Kubernetes client it only needs in a cluster.
 */
import { KubernetesApiError } from './errors.js';

export interface LeaseRecord {
  holderIdentity: string | null;
  leaseDurationSeconds: number;
  /** epoch ms, null when unset */
  acquireTime: number | null;
  renewTime: number | null;
  leaseTransitions: number;
  /** opaque; empty for a record not yet stored */
  resourceVersion: string;
}

/** Someone else wrote first (409 Conflict / AlreadyExists): the race is lost, not an outage. */
export class LeaseConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaseConflictError';
  }
}

export class LeaseApiError extends KubernetesApiError {
  constructor(message: string, code: number | undefined) {
    super(message, code);
    this.name = 'LeaseApiError';
  }
}

export interface LeaseClient {
  readonly namespace: string;
  readonly name: string;
  /** undefined when the Lease does not exist */
  get(signal?: AbortSignal): Promise<LeaseRecord | undefined>;
  create(record: Omit<LeaseRecord, 'resourceVersion'>, signal?: AbortSignal): Promise<LeaseRecord>;
  /** Replaces with `record.resourceVersion` as the precondition. */
  replace(record: LeaseRecord, signal?: AbortSignal): Promise<LeaseRecord>;
}
