import type { DiscordApi } from '../../clients/discord/api.js';
import type { MissionControlApi } from '../../clients/mission-control/api.js';
import { sendSignal, type SignalResult } from '../../clients/process/signal.js';
import type { StateFile } from '../../clients/state/index.js';
import type { Scaler } from './kubernetes-scale.js';

/** Why the door is shut: `plan`, MC_DRY_RUN / `--dry-run`, a standby that does not hold the lock or Lease, a read-only command. */
export type ClosedReason = 'plan' | 'dry-run' | 'standby' | 'read-only';

/** An effect attempted through a closed door. Permanent: retrying cannot open the door. */
export class EffectRefusedError extends Error {
  readonly permanent = true;
  constructor(
    readonly effect: string,
    readonly reason: ClosedReason,
  ) {
    super(`${effect} refused: ${reason} writes nothing`);
    this.name = 'EffectRefusedError';
  }
}

/**
 * The one door every outside effect goes through: Mission Control writes (task patches, comments, task and
 * approval creates, custom-field creates and binds), Discord posts, state files, process signals and
 * Kubernetes scale writes. Clients are handed out already wrapped, so a code path that forgets a dry-run
 * flag still cannot write: the wrapped call throws `EffectRefusedError` before any byte leaves.
 * `plan`, dry-run and standbys construct it closed (a standby's door opens while it leads).
 */
export class EffectsDoor {
  private refusals = 0;

  private constructor(private readonly closedBy: () => ClosedReason | null) {}

  static open(): EffectsDoor {
    return new EffectsDoor(() => null);
  }

  static closed(reason: ClosedReason): EffectsDoor {
    return new EffectsDoor(() => reason);
  }

  /** Open only while `leading()` is true; a standby's effects are refused. */
  static whileLeading(leading: () => boolean): EffectsDoor {
    return new EffectsDoor(() => (leading() ? null : 'standby'));
  }

  /** null while open. */
  get closedReason(): ClosedReason | null {
    return this.closedBy();
  }

  get isOpen(): boolean {
    return this.closedBy() === null;
  }

  /** Effects refused so far (each one a bug or a forgotten flag upstream of the door). */
  get refused(): number {
    return this.refusals;
  }

  /** Throws unless the door is open; every wrapped call goes through here first. */
  pass(effect: string): void {
    const reason = this.closedBy();
    if (reason === null) return;
    this.refusals++;
    throw new EffectRefusedError(effect, reason);
  }

  missionControl(mc: MissionControlApi): MissionControlApi {
    return guardMissionControl(mc, this);
  }

  discord(client: DiscordApi): DiscordApi {
    return {
      post: async (input, opts) => {
        this.pass(`Discord post to channel ${input.channelId}`);
        return client.post(input, opts);
      },
      recent: (channelId, limit, opts) => client.recent(channelId, limit, opts),
      channel: (channelId, opts) => client.channel(channelId, opts),
    };
  }

  scaler(scaler: Scaler): Scaler {
    return {
      scaleDown: async (ref, replicas) => {
        this.pass(`scale ${ref.kind} ${ref.namespace}/${ref.name}`);
        return scaler.scaleDown(ref, replicas);
      },
      restore: async (ref) => {
        this.pass(`restore ${ref.kind} ${ref.namespace}/${ref.name}`);
        return scaler.restore(ref);
      },
    };
  }

  signal(pid: number, signal: NodeJS.Signals): SignalResult {
    this.pass(`${signal} to pid ${pid}`);
    return sendSignal(pid, signal);
  }

  /** Reads pass; writes (atomic and fsynced by the state client) ask the door first. */
  stateFile(file: StateFile): StateFile {
    return {
      path: file.path,
      read: (schema) => file.read(schema),
      write: (value) => {
        this.pass(`write ${file.path}`);
        file.write(value);
      },
    };
  }
}

/** Everything else on the client (every write, and any method added later) asks the door first: fail-safe. */
const MC_READS = [
  'getBoard',
  'listBoards',
  'listAgents',
  'listTasks',
  'listComments',
  'listFieldDefinitions',
  'listApprovals',
  'streamTasks',
  'streamApprovals',
] as const satisfies readonly (keyof MissionControlApi)[];

function guardMissionControl(mc: MissionControlApi, door: EffectsDoor): MissionControlApi {
  const reads = new Set<PropertyKey>(MC_READS);
  return new Proxy(mc, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...a: unknown[]) => unknown;
      if (reads.has(prop)) return method.bind(target);
      return async (...args: unknown[]) => {
        door.pass(`Mission Control ${String(prop)}`);
        return method.apply(target, args);
      };
    },
  });
}
