import { describe, expect, it } from 'vitest';
import { createMetrics, METRIC_NAMES } from './metrics.js';

describe('metrics', () => {
  it('exports exactly the mc_* metrics plus process metrics', async () => {
    const metrics = createMetrics();
    const hooks = metrics.controllerHooks();
    hooks.onAdd?.('task/b/t');
    hooks.onDepth?.(3);
    hooks.onRetry?.('task/b/t', 1, 1000, new Error('x'));
    hooks.onQueueDuration?.(250);
    hooks.reconciled?.('stall', 'success', 0.02);
    hooks.reconciled?.('stall', 'error', 0.5, 'timeout');
    hooks.action?.('comment.create', 'applied');
    hooks.synced?.('mission-control', true);
    hooks.synced?.('gateway', false);
    metrics.degraded.set(0);
    metrics.leader.set(1);

    const text = await metrics.render();
    for (const name of METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
    const ours = new Set([...text.matchAll(/^# TYPE (mc_\w+) /gm)].map((m) => m[1]));
    expect([...ours].sort()).toEqual([...METRIC_NAMES].sort());
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('mc_reconcile_total{reconciler="stall",result="error"} 1');
    expect(text).toContain('mc_reconcile_errors_total{reconciler="stall",error_class="timeout"} 1');
    expect(text).toContain('mc_actions_total{action="comment.create",outcome="applied"} 1');
    expect(text).toContain('mc_downstream_up{downstream="gateway"} 0');
    expect(text).toMatch(/mc_last_sync_timestamp_seconds\{source="mission-control"\} \d+/);
    expect(text).toContain('mc_workqueue_depth 3');
    // No per-task labels ever reach the exposition.
    expect(text).not.toMatch(/task\/b\/t|task_id|taskId/);
  });

  it('keeps registries separate per controller', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.leader.set(1);
    expect(await b.render()).toContain('mc_leader 0');
  });
});
