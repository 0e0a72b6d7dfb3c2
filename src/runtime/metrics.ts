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

  const reconcileTotal = new Counter({
    name: 'mc_reconcile_total',
    help: 'Reconcile passes per reconciler and result (success, error).',
    labelNames: ['reconciler', 'result'] as const,
    registers,
  });
  const reconcileErrors = new Counter({
    name: 'mc_reconcile_errors_total',
    help: 'Failed reconcile passes per reconciler and error class.',
    labelNames: ['reconciler', 'error_class'] as const,
    registers,
  });
  const reconcileDuration = new Histogram({
    name: 'mc_reconcile_duration_seconds',
    help: 'Time spent in one reconcile pass per reconciler.',
    labelNames: ['reconciler'] as const,
    buckets: RECONCILE_BUCKETS,
    registers,
  });
  const workqueueDepth = new Gauge({ name: 'mc_workqueue_depth', help: 'Keys waiting in the work queue.', registers });
  const workqueueAdds = new Counter({ name: 'mc_workqueue_adds_total', help: 'Keys added to the work queue.', registers });
  const workqueueRetries = new Counter({
    name: 'mc_workqueue_retries_total',
    help: 'Keys re-queued with backoff after a failure.',
    registers,
  });
  const workqueueQueueDuration = new Histogram({
    name: 'mc_workqueue_queue_duration_seconds',
    help: 'Time a key waited in the queue before it was processed.',
    buckets: QUEUE_BUCKETS,
    registers,
  });
  const actionsTotal = new Counter({
    name: 'mc_actions_total',
    help: 'Actions per type and outcome (applied, skipped, failed, planned, ...).',
    labelNames: ['action', 'outcome'] as const,
    registers,
  });
  const degraded = new Gauge({ name: 'mc_degraded', help: '1 while degrade mode is active.', registers });
  const leader = new Gauge({ name: 'mc_leader', help: '1 while this process holds leadership.', registers });
  const downstreamUp = new Gauge({
    name: 'mc_downstream_up',
    help: '1 when the last call to the downstream succeeded.',
    labelNames: ['downstream'] as const,
    registers,
  });
  const lastSync = new Gauge({
    name: 'mc_last_sync_timestamp_seconds',
    help: 'Unix time of the last successful sync per source.',
    labelNames: ['source'] as const,
    registers,
  });

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
