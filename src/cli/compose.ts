import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { PlannerSettings } from '../model/index.js';
import type { MissionControlApi } from '../clients/mission-control/api.js';
import { Controller, type ControllerMetrics } from '../runtime/controller/index.js';
import type { EffectsDoor } from '../runtime/effects/door.js';
import type { Handlers } from '../runtime/executor.js';
import { GatewaySource } from '../runtime/gateway-source.js';
import { GlobalStateFile } from '../runtime/global-state.js';
import { degradePlannerSettings, type DegradeWiring } from './degrade.js';
import { handlersFor, postedFor } from './handlers.js';
import { reconcilers } from './reconcilers.js';

export function plannerSettings(config: Config, dryRun: boolean): PlannerSettings {
  return {
    dryRun,
    publicUrl: config.mc.publicUrl ?? null,
    locale: config.discord.locale,
    watchdog: { ...config.watchdog },
    delivery: { ...config.delivery },
    degrade: degradePlannerSettings(config),
  };
}

export interface Composed {
  controller: Controller;
  gateway: GatewaySource | null;
  globalState: GlobalStateFile;
}

/** Wires clients, effect handlers and the reconciler list into a controller. The only place that knows them all. */
export function compose(opts: {
  config: Config;
  logger: Logger;
  mc: MissionControlApi;
  gateway?: GatewaySource | null;
  handlers?: Handlers;
  /** every write of the controller goes through it (`mc` and `handlers` must be built behind the same door) */
  door: EffectsDoor;
  /** aborted at the shutdown drain deadline */
  signal?: AbortSignal;
  degraded?: () => boolean;
  pressure?: () => unknown;
  metrics?: ControllerMetrics;
  /** fields a plan treats as bound because `run`/`once` would bootstrap them first */
  assumeBoundFields?: readonly string[];
}): Composed {
  const { config } = opts;
  const globalState = new GlobalStateFile(config.loop.stateDir, opts.door, { logger: opts.logger });
  const posted = postedFor(config, opts.logger);
  const closed = opts.door.closedReason;
  const controller = new Controller({
    boardIds: config.mc.boardIds,
    settings: plannerSettings(config, closed === 'plan' || closed === 'dry-run'),
    reconcilers: reconcilers({ discord: Boolean(config.discord.token && (config.discord.channel || config.discord.deliveryChannel || config.discord.approvalsChannel)) }),
    mc: opts.mc,
    ...(opts.gateway ? { gateway: opts.gateway } : {}),
    handlers: opts.handlers ?? {},
    globalState,
    logger: opts.logger,
    loop: {
      concurrency: config.loop.concurrency,
      backoffMinMs: config.loop.backoffMinMs,
      backoffMaxMs: config.loop.backoffMaxMs,
      resyncMs: config.loop.resyncSeconds * 1000,
    },
    pausedWhileDegraded: config.degrade.pausedConcerns,
    door: opts.door,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.degraded ? { degraded: opts.degraded } : {}),
    ...(opts.pressure ? { pressure: opts.pressure } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(posted ? { posted } : {}),
    ...(opts.assumeBoundFields ? { assumeBoundFields: opts.assumeBoundFields } : {}),
  });
  return { controller, gateway: opts.gateway ?? null, globalState };
}

/** `run` and `once`: the controller with every effect handler and the degrade wiring, all behind the same door. */
export function composeController(opts: {
  config: Config;
  logger: Logger;
  mc: MissionControlApi;
  gateway: GatewaySource | null;
  door: EffectsDoor;
  degrade: DegradeWiring;
  signal?: AbortSignal;
  metrics?: ControllerMetrics;
  /** fields a plan treats as bound because `run`/`once` would bootstrap them first */
  assumeBoundFields?: readonly string[];
}): Composed {
  const { config, logger, door, degrade } = opts;
  return compose({
    config,
    logger,
    mc: opts.mc,
    gateway: opts.gateway,
    door,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.assumeBoundFields ? { assumeBoundFields: opts.assumeBoundFields } : {}),
    handlers: { ...handlersFor(config, logger, door), ...degrade.handlers },
    degraded: degrade.degraded,
    pressure: degrade.pressure,
  });
}
