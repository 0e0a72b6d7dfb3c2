import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { PlannerSettings } from '../model/index.js';
import type { MissionControlApi } from '../clients/mission-control/api.js';
import { Controller, type ControllerMetrics } from '../runtime/controller.js';
import type { Handlers } from '../runtime/executor.js';
import { GatewaySource } from '../runtime/gateway-source.js';
import { GlobalStateFile } from '../runtime/global-state.js';
import { degradePlannerSettings } from './degrade.js';
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
  dryRun: boolean;
  isLeader?: () => boolean;
  degraded?: () => boolean;
  pressure?: () => unknown;
  metrics?: ControllerMetrics;
  /** fields a plan treats as bound because `run`/`once` would bootstrap them first */
  assumeBoundFields?: readonly string[];
}): Composed {
  const { config } = opts;
  const globalState = new GlobalStateFile(config.loop.stateDir);
  const controller = new Controller({
    boardIds: config.mc.boardIds,
    settings: plannerSettings(config, opts.dryRun),
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
    ...(opts.isLeader ? { isLeader: opts.isLeader } : {}),
    ...(opts.degraded ? { degraded: opts.degraded } : {}),
    ...(opts.pressure ? { pressure: opts.pressure } : {}),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
    ...(opts.assumeBoundFields ? { assumeBoundFields: opts.assumeBoundFields } : {}),
  });
  return { controller, gateway: opts.gateway ?? null, globalState };
}
