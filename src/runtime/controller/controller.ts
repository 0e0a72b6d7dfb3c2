import { taskKey } from '../../model/index.js';
import { Admission } from '../admission.js';
import { Executor } from '../executor.js';
import { WorkQueue } from '../queue.js';
import { warmGatewayReads } from '../snapshot.js';
import { BoardStore } from '../store.js';
import { FirstRun } from './first-run.js';
import { Heartbeat } from './heartbeat.js';
import { globalReconcilers, taskReconcilers, type ControllerOptions, type Mode } from './options.js';
import { runPass, type PassReport } from './pass.js';
import { KeyReconcile, type KeyResult } from './reconcile.js';
import { ResyncTimer } from './resync.js';
import { SessionIndex } from './session-index.js';
import { openBoardStreams } from './streams.js';
import { CacheSync } from './sync.js';

/**
 * The loop: sources fill caches, keys go through the work queue, each key's reconcile builds a snapshot,
 * asks every reconciler for actions and hands them to the executor (or to the plan printer). This class only
 * wires the parts and runs them: the listing (`sync.ts`), the streams (`streams.ts`), the push index
 * (`session-index.ts`), one key's reconcile (`reconcile.ts`), a one-shot pass (`pass.ts`), the resync timer
 * (`resync.ts`) and the heartbeat (`heartbeat.ts`).
 */
export class Controller {
  readonly store: BoardStore;
  readonly executor: Executor;
  private readonly admission: Admission;
  private readonly sessions: SessionIndex;
  private readonly cacheSync: CacheSync;
  private readonly reconcile: KeyReconcile;
  private readonly heartbeat = new Heartbeat();
  private readonly resync: ResyncTimer;
  private readonly globalKeys: string[];
  private queue: WorkQueue | null = null;
  private streams: { close(): void }[] = [];
  private stopped = false;

  constructor(private readonly o: ControllerOptions) {
    this.store = new BoardStore(o.mc, o.logger);
    this.admission = new Admission({
      pausedWhileDegraded: o.pausedWhileDegraded ?? [],
      degraded: () => o.degraded?.() ?? false,
      deliveryMaxPerPass: o.settings.delivery.maxPerPass,
      backoffMinMs: o.loop.backoffMinMs,
      backoffMaxMs: o.loop.backoffMaxMs,
    });
    this.executor = new Executor({
      mc: o.mc,
      store: this.store,
      handlers: o.handlers,
      globalState: o.globalState,
      logger: o.logger,
      ...(o.signal ? { signal: o.signal } : {}),
      onAction: (a, outcome) => o.metrics?.action?.(a, outcome),
    });
    const firstRun = new FirstRun({ globalState: o.globalState, door: o.door });
    this.sessions = new SessionIndex({ store: this.store, gateway: o.gateway, taskReconcilers: taskReconcilers(o.reconcilers), settings: o.settings });
    this.cacheSync = new CacheSync({
      boardIds: o.boardIds,
      store: this.store,
      gateway: o.gateway,
      sessions: this.sessions,
      firstRun,
      admission: this.admission,
      logger: o.logger,
      metrics: o.metrics,
      assumeBoundFields: o.assumeBoundFields,
      warmGatewayReads: () => warmGatewayReads(this.reconcile.snapshotDeps(), Date.now()),
    });
    this.reconcile = new KeyReconcile({ options: o, store: this.store, executor: this.executor, admission: this.admission, sessions: this.sessions, firstRun });
    this.globalKeys = globalReconcilers(o.reconcilers).map((r) => r.key);
    this.resync = new ResyncTimer({
      periodMs: o.loop.resyncMs,
      logger: o.logger,
      resync: async () => {
        await this.sync('apply');
        for (const key of this.allKeys()) this.enqueue(key);
      },
    });
  }

  /** Refreshes every board and the gateway; returns the keys whose inputs changed. */
  sync(mode: Mode): Promise<string[]> {
    return this.cacheSync.run(mode);
  }

  /** when the last sync succeeded (epoch ms), null before the first */
  get lastSyncAt(): number | null {
    return this.cacheSync.lastSyncAt;
  }

  /** epoch ms of the loop's last sign of life, for `/healthz` */
  get heartbeatAt(): number {
    return this.heartbeat.at;
  }

  /** When the next safety-net resync is due (null before the first). */
  get nextResyncAt(): number | null {
    return this.resync.nextAt;
  }

  allKeys(): string[] {
    const keys: string[] = [];
    for (const [boardId, s] of this.store.boards) for (const id of s.tasks.keys()) keys.push(taskKey(boardId, id));
    keys.push(...this.globalKeys);
    return keys;
  }

  /** Plans one key and applies (or, in plan mode and on standbys, only describes) its actions. */
  reconcileKey(key: string, mode: Mode): Promise<KeyResult> {
    this.heartbeat.beat();
    return this.reconcile.run(key, mode);
  }

  /** One full pass: sync, then every key once (bounded concurrency, no retries). For `once` and `plan`. */
  pass(mode: Mode, onKeyDone?: (done: number, total: number) => void): Promise<PassReport> {
    const deps = {
      mc: this.o.mc,
      concurrency: this.o.loop.concurrency,
      sync: (m: Mode) => this.sync(m),
      keys: () => this.allKeys(),
      reconcile: (key: string, m: Mode) => this.reconcileKey(key, m),
    };
    return runPass(deps, mode, onKeyDone);
  }

  /** The long-running loop: streams and gateway pushes enqueue keys, a jittered resync is the safety net. */
  async start(): Promise<void> {
    if (this.stopped) return;
    const hooks = this.o.metrics;
    this.heartbeat.start();
    this.queue = new WorkQueue(
      async (key) => {
        const r = await this.reconcileKey(key, 'apply');
        return r.requeueAfterMs !== undefined ? { requeueAfterMs: r.requeueAfterMs } : {};
      },
      {
        concurrency: this.o.loop.concurrency,
        backoffMinMs: this.o.loop.backoffMinMs,
        backoffMaxMs: this.o.loop.backoffMaxMs,
        hooks: {
          ...hooks,
          onRetry: (key, n, delay, error) => {
            hooks?.onRetry?.(key, n, delay, error);
            this.o.logger.warn({ key, failures: n, retryInMs: delay, err: (error as Error).message }, 'reconcile failed; backing off');
          },
        },
      },
    );
    // the streams start from before the first listing, so nothing changed in between waits for the next resync
    const listedFrom = Date.now();
    await this.resync.run();
    // stopped while the first sync ran (a signal during start-up): open nothing that would outlive the stop
    if (this.stopped) return;
    this.streams = openBoardStreams({
      mc: this.o.mc,
      store: this.store,
      boardIds: this.o.boardIds,
      logger: this.o.logger,
      enqueue: (key) => this.enqueue(key),
      globalKeys: this.globalKeys,
      since: listedFrom,
    });
  }

  /** Called by gateway push events: the tasks the session concerns are enqueued (see SessionIndex). */
  sessionChanged(sessionKey: string): void {
    this.sessions.sessionChanged(sessionKey, (key) => this.enqueue(key));
  }

  enqueue(key: string): void {
    this.queue?.add(key);
  }

  /** A gateway restart or similar: list everything now instead of at the next timer, then look at every key. */
  resyncNow(): void {
    this.resync.now();
  }

  async idle(): Promise<void> {
    await this.queue?.idle();
  }

  get queueDepth(): number {
    return this.queue?.depth ?? 0;
  }

  async stop(drainMs: number): Promise<boolean> {
    this.stopped = true;
    this.resync.stop();
    this.heartbeat.stop();
    for (const s of this.streams.splice(0)) s.close();
    return (await this.queue?.stop(drainMs)) ?? true;
  }

  /**
   * After `stop` and once in-flight requests were aborted: waits (at most `timeoutMs`) until the reconciles and
   * the resync still running have unwound, so nothing is in flight when the lock or Lease is given up.
   */
  async settle(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      Promise.all([this.queue?.idle(), this.resync.running]).then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return settled;
  }
}
