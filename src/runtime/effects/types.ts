import type { Logger } from 'pino';
import type { Action, ActionType } from '../../model/index.js';

/** What one applied action came to; recorded in metrics (`mc_actions_total{action,outcome}`) and logs. */
export interface EffectOutcome {
  outcome: 'applied' | 'skipped' | 'failed';
  detail?: string;
  /** id of what was created outside (Discord message id, …) */
  externalId?: string;
}

export interface EffectContext {
  logger: Logger;
  /** aborted at the shutdown drain deadline: in-flight calls stop instead of outliving the process */
  signal?: AbortSignal;
  /**
   * For an action with an intent recorded in a ledger before the call: the entry as it stood before this
   * attempt (absent on a first attempt). A handler uses it to look for an earlier post that may have landed.
   */
  priorIntent?: { s: 'pending' | 'done' | 'failed'; at: number; ext?: string };
}

/** Turns one action of a given type into client calls. Throwing = failure, retried with the key's backoff. */
export type EffectHandler<A extends Action = Action> = (action: A, ctx: EffectContext) => Promise<EffectOutcome>;

/** The handler of each action type the executor does not apply itself; a `state.write` one mirrors what the executor merged. */
export type Handlers = { [T in ActionType]?: EffectHandler<Extract<Action, { type: T }>> };
