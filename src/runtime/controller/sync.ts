import type { Logger } from 'pino';
import { taskKey } from '../../model/index.js';
import type { Admission } from '../admission.js';
import type { GatewaySource } from '../gateway-source.js';
import type { BoardStore } from '../store.js';
import type { FirstRun } from './first-run.js';
import type { ControllerMetrics, Mode } from './options.js';
import type { SessionIndex } from './session-index.js';

export interface SyncDeps {
  boardIds: readonly string[];
  store: BoardStore;
  gateway?: GatewaySource | undefined;
  sessions: SessionIndex;
  firstRun: FirstRun;
  admission: Admission;
  logger: Logger;
  metrics?: ControllerMetrics | undefined;
  /** plan only: custom fields counted as bound (the ones `run` would bootstrap before its first pass) */
  assumeBoundFields?: readonly string[] | undefined;
  /** after the gateway listing: starts the reads the keys will ask for together, rather than a few keys at a time */
  warmGatewayReads?: (() => Promise<unknown>) | undefined;
}

/** The full listing of every board and the gateway into the caches: what a resync and every pass start with. */
export class CacheSync {
  /** when the last sync succeeded (epoch ms), null before the first */
  lastSyncAt: number | null = null;
  private readonly warnedUnbound = new Set<string>();

  constructor(private readonly d: SyncDeps) {}

  /** Refreshes every board and the gateway; returns the keys whose inputs changed. */
  async run(mode: Mode): Promise<string[]> {
    const { store, gateway, metrics } = this.d;
    const changed = new Set<string>();
    // The gateway is listed while the boards are: the two peers answer independently.
    const gatewayListed = gateway?.refresh().then(
      (r) => ({ ok: true as const, r }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    for (const boardId of this.d.boardIds) {
      try {
        const r = await store.refresh(boardId);
        for (const f of this.d.assumeBoundFields ?? []) store.state(boardId).boundFields.add(f);
        for (const id of r.changedTaskIds) changed.add(taskKey(boardId, id));
        metrics?.synced?.('mission-control', true);
      } catch (err) {
        metrics?.synced?.('mission-control', false);
        throw err;
      }
      this.d.firstRun.update(boardId, store.state(boardId).tasks.values(), mode);
      this.warnIfUnbound(boardId);
    }
    if (gateway && gatewayListed) {
      const listed = await gatewayListed;
      if (listed.ok) {
        this.d.sessions.rebuild();
        for (const t of this.d.sessions.tasksOf(listed.r.changedKeys)) changed.add(t);
        metrics?.synced?.('gateway', true);
      } else {
        gateway.markUnreachable();
        metrics?.synced?.('gateway', false);
        this.d.logger.warn({ err: (listed.err as Error).message }, 'gateway unreachable; session-based checks wait for it');
      }
    }
    // Started, not awaited: keys go on at once and each waits only for its own reads, so the first writes
    // overlap the last reads (the warm-up swallows its failures; a key meets them in its own snapshot).
    if (gateway && this.d.warmGatewayReads) void this.d.warmGatewayReads().catch(() => undefined);
    this.d.admission.newPass();
    this.lastSyncAt = Date.now();
    return [...changed];
  }

  private warnIfUnbound(boardId: string): void {
    if (this.d.store.state(boardId).boundFields.has('mc_conditions') || this.warnedUnbound.has(boardId)) return;
    this.warnedUnbound.add(boardId);
    this.d.logger.warn({ boardId }, 'custom field mc_conditions is not bound to this board: conditions cannot be recorded; run `mc-controller bootstrap`');
  }
}
