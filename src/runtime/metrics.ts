/**
 * The controller's Prometheus metrics on a private Registry (never prom-client's global one, so
 * tests and several controllers in one process do not collide). Labels are bounded sets only:
 * reconciler, result, error class, action type, outcome, downstream, source — never a task id.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControllerMetrics } from './controller/index.js';

export interface Metrics {
  registry: Registry;
  reconcileTotal: Counter<'reconciler' | 'result'>;
  reconcileErrors: Counter<'reconciler' | 'error_class'>;
  reconcileDuration: Histogram<'reconciler'>;
  workqueueDepth: Gauge;
  workqueueAdds: Counter;
  workqueueRetries: Counter;
  workqueueQueueDuration: Histogram;
  actionsTotal: Counter<'action' | 'outcome'>;
  degraded: Gauge;
  leader: Gauge;
  downstreamUp: Gauge<'downstream'>;
  lastSync: Gauge<'source'>;
  /** Adapter for the controller loop's hook interface. */
  controllerHooks(): ControllerMetrics;
  /** Prometheus text exposition. */
  render(): Promise<string>;
}

/** The metric names this controller exports (dashboards and alerts may use only these). */
export const METRIC_NAMES = [
  'mc_reconcile_total',
  'mc_reconcile_errors_total',
  'mc_reconcile_duration_seconds',
  'mc_workqueue_depth',
  'mc_workqueue_adds_total',
  'mc_workqueue_retries_total',
  'mc_workqueue_queue_duration_seconds',
  'mc_actions_total',
  'mc_degraded',
  'mc_leader',
  'mc_downstream_up',
  'mc_last_sync_timestamp_seconds',
] as const;

// controller-runtime's reconcile buckets run 5 ms … 60 s; ours are network-bound passes.
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const QUEUE_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600];

export interface MetricsOptions {
  /** process_* and nodejs_* collectors (default true). */
  defaultMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  // one registry for every metric; labels only where the name says they are there
  const counter = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) => new Gauge<L>({ name, help, labelNames, registers });
  const histogram = <L extends string = never>(name: string, help: string, buckets: number[], labelNames: readonly L[] = []) =>
    new Histogram<L>({ name, help, labelNames, buckets, registers });

  const reconcileTotal = counter('mc_reconcile_total', 'Reconcile passes per reconciler and result (success, error).', ['reconciler', 'result']);
  const reconcileErrors = counter('mc_reconcile_errors_total', 'Failed reconcile passes per reconciler and error class.', ['reconciler', 'error_class']);
  const reconcileDuration = histogram('mc_reconcile_duration_seconds', 'Time spent in one reconcile pass per reconciler.', RECONCILE_BUCKETS, ['reconciler']);
  const workqueueDepth = gauge('mc_workqueue_depth', 'Keys waiting in the work queue.');
  const workqueueAdds = counter('mc_workqueue_adds_total', 'Keys added to the work queue.');
  const workqueueRetries = counter('mc_workqueue_retries_total', 'Keys re-queued with backoff after a failure.');
  const workqueueQueueDuration = histogram('mc_workqueue_queue_duration_seconds', 'Time a key waited in the queue before it was processed.', QUEUE_BUCKETS);
  const actionsTotal = counter('mc_actions_total', 'Actions per type and outcome (applied, skipped, failed, planned, ...).', ['action', 'outcome']);
  const degraded = gauge('mc_degraded', '1 while degrade mode is active.');
  const leader = gauge('mc_leader', '1 while this process holds leadership.');
  const downstreamUp = gauge('mc_downstream_up', '1 when the last call to the downstream succeeded.', ['downstream']);
  const lastSync = gauge('mc_last_sync_timestamp_seconds', 'Unix time of the last successful sync per source.', ['source']);

  return {
    registry,
    reconcileTotal,
    reconcileErrors,
    reconcileDuration,
    workqueueDepth,
    workqueueAdds,
    workqueueRetries,
    workqueueQueueDuration,
    actionsTotal,
    degraded,
    leader,
    downstreamUp,
    lastSync,
    controllerHooks() {
      return {
        onAdd: () => workqueueAdds.inc(),
        onDepth: (depth) => workqueueDepth.set(depth),
        onRetry: () => workqueueRetries.inc(),
        onQueueDuration: (ms) => workqueueQueueDuration.observe(ms / 1000),
        reconciled: (reconciler, result, seconds, errorClass) => {
          reconcileTotal.inc({ reconciler, result });
          reconcileDuration.observe({ reconciler }, seconds);
          if (result === 'error') reconcileErrors.inc({ reconciler, error_class: errorClass ?? 'unknown' });
        },
        action: (action, outcome) => actionsTotal.inc({ action, outcome }),
        synced: (source, ok) => {
          downstreamUp.set({ downstream: source }, ok ? 1 : 0);
          if (ok) lastSync.set({ source }, Date.now() / 1000);
        },
      };
    },
    render: () => registry.metrics(),
  };
}
