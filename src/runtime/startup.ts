/**
 * `run`'s first contact with Mission Control. A refused token (401/403) or a request the board can never
 * accept (unknown board, 404/422) ends the process with one clear line: retrying would change nothing. An
 * unreachable or failing peer (network, timeout, 5xx, 429) is retried with capped backoff until it answers, and
 * the probes say what the process is waiting for instead of staying silently green.
 */
import type { Logger } from 'pino';
import { MissionControlError } from '../clients/mission-control/errors.js';
import { backoffDelay } from './backoff.js';
import { sleepUnlessAborted as sleep } from '../clients/http/backoff.js';

export type StartupPhase = 'starting' | 'waiting' | 'refused' | 'running';

export interface StartupView {
  phase: StartupPhase;
  /** what the process waits for or why it stops; absent once running */
  detail?: string;
}

/** What the probes read while `run` starts: the phase, the last error, and a heartbeat of the waiting loop. */
export class StartupState {
  private view: StartupView = { phase: 'starting' };
  heartbeatAt = Date.now();

  get phase(): StartupPhase {
    return this.view.phase;
  }

  current(): StartupView {
    return { ...this.view };
  }

  set(phase: StartupPhase, detail?: string): void {
    this.view = detail === undefined ? { phase } : { phase, detail };
    this.heartbeatAt = Date.now();
  }
}

/** A start-up failure that retrying cannot fix; `run` exits 1 with its message. */
export class StartupRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupRefused';
  }
}

export interface UntilAnsweredOptions {
  /** the first authenticated call(s): bootstrap, or a read of each board */
  attempt: () => Promise<void>;
  state: StartupState;
  logger: Logger;
  /** aborted by shutdown: the wait ends quietly */
  signal: AbortSignal;
  backoffMinMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
}

/** Resolves once `attempt` succeeds (true) or shutdown aborted the wait (false); throws StartupRefused. */
export async function untilMissionControlAnswers(opts: UntilAnsweredOptions): Promise<boolean> {
  const min = opts.backoffMinMs ?? 1_000;
  const max = opts.backoffMaxMs ?? 15_000;
  // the event loop turns while we wait: liveness must not restart a process that is only waiting for its peer
  const tick = setInterval(() => (opts.state.heartbeatAt = Date.now()), 5_000);
  tick.unref();
  try {
    for (let failures = 1; !opts.signal.aborted; failures++) {
      try {
        await opts.attempt();
        opts.state.set('running');
        return true;
      } catch (err) {
        if (opts.signal.aborted) break;
        if (!(err instanceof MissionControlError)) throw err;
        // a 409 here is a concurrent bootstrap by another writer: the next attempt sees its result
        if (!err.transient && err.kind !== 'conflict') {
          opts.state.set('refused', err.message);
          throw new StartupRefused(err.message);
        }
        const retryInMs = Math.max(err.retryAfterMs ?? 0, backoffDelay(failures, min, max, opts.random));
        const detail = `waiting for Mission Control: ${err.message}; attempt ${failures}, next in ${Math.ceil(retryInMs / 1000)} s`;
        opts.state.set('waiting', detail);
        opts.logger.warn({ attempt: failures, retryInMs, err: err.message }, 'Mission Control not answering at start-up; retrying');
        await sleep(retryInMs, opts.signal);
      }
    }
    return false;
  } finally {
    clearInterval(tick);
  }
}
