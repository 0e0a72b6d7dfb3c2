import type { Logger } from 'pino';
import type { Action } from '../../model/index.js';

/** What one applied action came to; recorded in metrics (`mc_actions_total{action,outcome}`) and logs. */
export interface EffectOutcome {
  outcome: 'applied' | 'skipped' | 'failed';
  detail?: string;
  /** id of what was created outside (Discord message id, …) */
  externalId?: string;
}

export interface EffectContext {
  /** dry-run never reaches a handler; handlers may still assert it */
  dryRun: boolean;
  logger: Logger;
  signal?: AbortSignal;
}

/** Turns one action of a given type into client calls. Throwing = failure, retried with the key's backoff. */
export type EffectHandler<A extends Action = Action> = (action: A, ctx: EffectContext) => Promise<EffectOutcome>;
