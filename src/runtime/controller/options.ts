import type { Logger } from 'pino';
import type { GlobalReconciler, PlannerSettings, Reconciler, TaskReconciler } from '../../model/index.js';
import type { MissionControlApi } from '../../clients/mission-control/api.js';
import type { EffectsDoor } from '../effects/door.js';
import type { Handlers } from '../executor.js';
import type { GatewaySource } from '../gateway-source.js';
import type { GlobalStateFile } from '../global-state.js';
import type { PostedMessages } from '../posted.js';
import type { QueueHooks } from '../queue.js';

export interface ControllerMetrics extends QueueHooks {
  reconciled?(reconciler: string, result: 'success' | 'error', seconds: number, errorClass?: string): void;
  action?(action: string, outcome: string): void;
  synced?(source: string, ok: boolean): void;
}

export interface ControllerOptions {
  boardIds: string[];
  settings: PlannerSettings;
  reconcilers: Reconciler[];
  /** already behind `door`: its writes are refused while the door is closed */
  mc: MissionControlApi;
  gateway?: GatewaySource;
  handlers: Handlers;
  globalState: GlobalStateFile;
  logger: Logger;
  loop: { concurrency: number; backoffMinMs: number; backoffMaxMs: number; resyncMs: number };
  /** closed for `plan`, dry-run and standbys: actions are then only described, and any write is refused */
  door: EffectsDoor;
  degraded?: () => boolean;
  /** reconcilers whose actions wait while degraded */
  pausedWhileDegraded?: readonly string[];
  /** the degrade signal's reading, handed to global planners */
  pressure?: () => unknown;
  /** what is already in the Discord channels, for global planners whose ledger is only a local cache */
  posted?: PostedMessages;
  metrics?: ControllerMetrics;
  /** plan only: custom fields counted as bound (the ones `run` would bootstrap before its first pass) */
  assumeBoundFields?: readonly string[];
  /** aborted at the shutdown drain deadline: in-flight effects stop instead of outliving the process */
  signal?: AbortSignal;
}

/** `apply` acts (through the door); `plan` only describes, whatever the door says. */
export type Mode = 'apply' | 'plan';

export const taskReconcilers = (all: readonly Reconciler[]): TaskReconciler[] => all.filter((r): r is TaskReconciler => r.scope === 'task');

export const globalReconcilers = (all: readonly Reconciler[]): GlobalReconciler[] => all.filter((r): r is GlobalReconciler => r.scope === 'global');
