import type { ScaleAction } from '../../model/index.js';
import { KubernetesApiError } from '../../clients/kubernetes/errors.js';
import type { KubernetesScaler } from '../../clients/kubernetes/scale.js';
import type { EffectHandler } from './types.js';

export type Scaler = Pick<KubernetesScaler, 'scaleDown' | 'restore'>;

/**
 * `k8s.scale`: scale down (recording the original count) or restore it. Conflicts are retried inside the scaler;
 * anything else throws so the executor backs off. A workload deleted meanwhile is skipped, not retried forever.
 */
export function makeScaleHandler(scaler: Scaler): EffectHandler<ScaleAction> {
  return async (action, ctx) => {
    const ref = { kind: action.kind, namespace: action.namespace, name: action.name };
    const label = `${action.kind} ${action.namespace}/${action.name}`;
    try {
      if (action.restore) {
        const r = await scaler.restore(ref);
        if (r.original === null) return { outcome: 'skipped', detail: `${label}: no original-replicas annotation` };
        return { outcome: 'applied', detail: `${label}: restored ${r.from}→${r.to}` };
      }
      const r = await scaler.scaleDown(ref, action.replicas);
      return r.changed
        ? { outcome: 'applied', detail: `${label}: scaled ${r.from}→${r.to}` }
        : { outcome: 'skipped', detail: `${label}: already at ${r.to}` };
    } catch (err) {
      if (err instanceof KubernetesApiError && err.code === 404) return { outcome: 'skipped', detail: `${label}: not found` };
      throw err;
    }
  };
}
