/** One interface for every way of deciding which process may write. */
export interface LeaderCallbacks {
  /** We now hold the lease/lock: start acting. */
  onStartedLeading?(): void;
  /** Leadership ended without `release()`: the CLI exits the process (client-go semantics). */
  onStoppedLeading?(reason: string): void;
  /** Another (or no) holder was observed; for logs and the /readyz body. */
  onNewLeader?(identity: string | null): void;
}

export interface LeaderElector {
  readonly identity: string;
  readonly kind: 'lease' | 'lockfile' | 'single' | 'passive';
  /** True only while leadership is held and fresh; standbys read but never write. */
  isLeader(): boolean;
  /** The last observed holder (ourselves when leading), null when none is known. */
  currentHolder(): string | null;
  /** The holder as an operator needs it in an error (pid, host, since when), when the elector knows more than an identity. */
  describeHolder?(): string | null;
  /** One acquisition attempt, for `once`: true means we lead until release(). */
  tryAcquire(): Promise<boolean>;
  /** Background acquire-then-renew loop; returns at once. */
  start(): void;
  /** Stops the loops without giving leadership up (others wait for expiry). */
  stop(): Promise<void>;
  /** Stops the loops and gives leadership up so a standby can take over at once. */
  release(): Promise<void>;
}

/** Minimal logging surface (pino's Logger satisfies it). */
export interface ElectionLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export const silentLogger: ElectionLogger = { debug() {}, info() {}, warn() {} };

export class LeaderElectionConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LeaderElectionConfigError';
  }
}
