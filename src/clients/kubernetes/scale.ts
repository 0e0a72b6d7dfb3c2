import { ApiException, AppsV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import { KubernetesApiError } from './errors.js';

/**
 * Scale-down and restore of selected Deployments/StatefulSets through the `/scale` subresource. The count before
 * degrade is kept in an annotation on the workload itself, so a restarted controller (or a human) can still restore.
 * API errors leave as KubernetesApiError (`./errors.ts`), so callers need not load client-node to read them.
 */

export const ORIGINAL_REPLICAS_ANNOTATION = 'mc-controller.openclaw.dev/original-replicas';
/** optional per-workload override of the degraded replica count */
export const DEGRADED_REPLICAS_ANNOTATION = 'mc-controller.openclaw.dev/degraded-replicas';

export type WorkloadKind = 'Deployment' | 'StatefulSet';

export interface WorkloadRef {
  kind: WorkloadKind;
  namespace: string;
  name: string;
}

export interface WorkloadView extends WorkloadRef {
  replicas: number;
  /** the annotated count from before degrade; null = not scaled by us */
  originalReplicas: number | null;
  /** the per-workload override annotation; null = use the configured default */
  degradedReplicas: number | null;
}

export interface ScaleTargets {
  namespace: string;
  /** label selector (`MC_DEGRADE_SCALE_SELECTOR`), e.g. `app.kubernetes.io/part-of=openclaw,tier!=core` */
  selector?: string;
  /** explicit names: `Deployment/x`, `StatefulSet/y`, or a bare name looked up as either kind */
  names?: string[];
}

export interface ScaleResult {
  changed: boolean;
  from: number;
  to: number;
}

const countText = z.string().regex(/^\d+$/).transform(Number);
const workloadSchema = z.object({
  metadata: z.object({
    name: z.string(),
    namespace: z.string().optional(),
    resourceVersion: z.string().optional(),
    annotations: z.record(z.string(), z.string()).nullish(),
  }),
  spec: z.object({ replicas: z.number().int().min(0).optional() }).optional(),
});
const scaleSchema = z.object({
  metadata: z.object({ resourceVersion: z.string().optional() }),
  spec: z.object({ replicas: z.number().int().min(0).optional() }).optional(),
});

function annotationCount(annotations: Record<string, string> | null | undefined, key: string): number | null {
  const parsed = countText.safeParse(annotations?.[key]);
  return parsed.success ? parsed.data : null;
}

const isCode = (err: unknown, code: number): boolean => err instanceof ApiException && err.code === code;

/** What leaves this client: an API error as a KubernetesApiError (same message and status), anything else as it is. */
async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiException) throw new KubernetesApiError(err.message, err.code, { cause: err });
    throw err;
  }
}

export class KubernetesScaler {
  private readonly apps: AppsV1Api;
  private readonly conflictRetries: number;

  constructor(kc: KubeConfig, opts: { conflictRetries?: number } = {}) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.conflictRetries = opts.conflictRetries ?? 4;
  }

  /** The selected workloads with current replicas and our annotations; a malformed object is skipped. */
  listSelected(targets: ScaleTargets, onSkip?: (problem: string) => void): Promise<WorkloadView[]> {
    return mapped(() => this.listSelectedRaw(targets, onSkip));
  }

  private async listSelectedRaw(targets: ScaleTargets, onSkip?: (problem: string) => void): Promise<WorkloadView[]> {
    const out = new Map<string, WorkloadView>();
    const add = (kind: WorkloadKind, raw: unknown): void => {
      const w = workloadSchema.safeParse(raw);
      if (!w.success) {
        onSkip?.(`${kind} in ${targets.namespace}: unexpected shape (${w.error.issues[0]?.message ?? 'invalid'})`);
        return;
      }
      const view: WorkloadView = {
        kind,
        namespace: w.data.metadata.namespace ?? targets.namespace,
        name: w.data.metadata.name,
        replicas: w.data.spec?.replicas ?? 1,
        originalReplicas: annotationCount(w.data.metadata.annotations, ORIGINAL_REPLICAS_ANNOTATION),
        degradedReplicas: annotationCount(w.data.metadata.annotations, DEGRADED_REPLICAS_ANNOTATION),
      };
      out.set(`${kind}/${view.namespace}/${view.name}`, view);
    };
    const ns = targets.namespace;
    if (targets.selector) {
      const [deps, sts] = await Promise.all([
        this.apps.listNamespacedDeployment({ namespace: ns, labelSelector: targets.selector }),
        this.apps.listNamespacedStatefulSet({ namespace: ns, labelSelector: targets.selector }),
      ]);
      for (const d of deps.items) add('Deployment', d);
      for (const s of sts.items) add('StatefulSet', s);
    }
    for (const entry of targets.names ?? []) {
      const [kindPart, namePart] = entry.includes('/') ? entry.split('/', 2) : [undefined, entry];
      const kinds: WorkloadKind[] =
        kindPart === undefined ? ['Deployment', 'StatefulSet'] : kindPart === 'StatefulSet' ? ['StatefulSet'] : ['Deployment'];
      for (const kind of kinds) {
        try {
          add(kind, await this.readWorkload({ kind, namespace: ns, name: namePart! }));
        } catch (err) {
          if (!isCode(err, 404)) throw err;
          if (kindPart !== undefined) onSkip?.(`${kind}/${namePart} in ${ns}: not found`);
        }
      }
    }
    return [...out.values()];
  }

  /**
   * Scales to `replicas`, first recording the current count in the annotation (unless one is there already, so a
   * retried or repeated scale-down never overwrites the true original with the degraded count).
   */
  scaleDown(ref: WorkloadRef, replicas: number): Promise<ScaleResult> {
    return this.withConflictRetry(async () => {
      const workload = workloadSchema.parse(await this.readWorkload(ref));
      const scale = scaleSchema.parse(await this.readScale(ref));
      const from = scale.spec?.replicas ?? 0;
      if (annotationCount(workload.metadata.annotations, ORIGINAL_REPLICAS_ANNOTATION) === null) {
        await this.patchAnnotation(ref, workload.metadata.resourceVersion, String(from));
      }
      if (from === replicas) return { changed: false, from, to: replicas };
      await this.replaceScale(ref, replicas);
      return { changed: true, from, to: replicas };
    });
  }

  /** Brings back the annotated count, then removes the annotation; without an annotation there is nothing to do. */
  restore(ref: WorkloadRef): Promise<ScaleResult & { original: number | null }> {
    return this.withConflictRetry(async () => {
      const workload = workloadSchema.parse(await this.readWorkload(ref));
      const original = annotationCount(workload.metadata.annotations, ORIGINAL_REPLICAS_ANNOTATION);
      const current = workload.spec?.replicas ?? 0;
      if (original === null) return { changed: false, from: current, to: current, original };
      const from = scaleSchema.parse(await this.readScale(ref)).spec?.replicas ?? 0;
      if (from !== original) await this.replaceScale(ref, original);
      const after = workloadSchema.parse(await this.readWorkload(ref));
      await this.patchAnnotation(ref, after.metadata.resourceVersion, null);
      return { changed: from !== original, from, to: original, original };
    });
  }

  private withConflictRetry<T>(fn: () => Promise<T>): Promise<T> {
    return mapped(async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await fn();
        } catch (err) {
          // 409 = someone wrote in between our read and write: re-read and try again, a few times
          if (!isCode(err, 409) || attempt >= this.conflictRetries) throw err;
        }
      }
    });
  }

  private readWorkload(ref: WorkloadRef): Promise<unknown> {
    const p = { namespace: ref.namespace, name: ref.name };
    return ref.kind === 'Deployment' ? this.apps.readNamespacedDeployment(p) : this.apps.readNamespacedStatefulSet(p);
  }

  private readScale(ref: WorkloadRef): Promise<unknown> {
    const p = { namespace: ref.namespace, name: ref.name };
    return ref.kind === 'Deployment' ? this.apps.readNamespacedDeploymentScale(p) : this.apps.readNamespacedStatefulSetScale(p);
  }

  /** Read-modify-write of /scale carrying the read resourceVersion, so a concurrent change is a 409, not a lost update. */
  private async replaceScale(ref: WorkloadRef, replicas: number): Promise<void> {
    const scale = scaleSchema.parse(await this.readScale(ref));
    const body = {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name: ref.name, namespace: ref.namespace, resourceVersion: scale.metadata.resourceVersion },
      spec: { replicas },
    };
    const p = { namespace: ref.namespace, name: ref.name, body };
    if (ref.kind === 'Deployment') await this.apps.replaceNamespacedDeploymentScale(p);
    else await this.apps.replaceNamespacedStatefulSetScale(p);
  }

  /**
   * Merge patch (client-node defaults to json-patch, which rejects an object body: issue #1398), with the read
   * resourceVersion as a precondition. `null` removes the annotation.
   */
  private async patchAnnotation(ref: WorkloadRef, resourceVersion: string | undefined, value: string | null): Promise<void> {
    const body = {
      metadata: { ...(resourceVersion ? { resourceVersion } : {}), annotations: { [ORIGINAL_REPLICAS_ANNOTATION]: value } },
    };
    const p = { namespace: ref.namespace, name: ref.name, body };
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    if (ref.kind === 'Deployment') await this.apps.patchNamespacedDeployment(p, options);
    else await this.apps.patchNamespacedStatefulSet(p, options);
  }
}
