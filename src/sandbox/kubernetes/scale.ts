/**
 * The `/scale` subresource of Deployments and StatefulSets, answering with `autoscaling/v1 Scale`.
 * The Scale shares the workload's resourceVersion, so a stale one in a replace is a 409.
 */
import type { KubeObject, ObjectStore, ResourceType } from './store.js';
import { applyPatch } from './patch.js';
import { badRequest, conflict } from './status.js';

function selectorString(workload: KubeObject): string {
  const selector = workload.spec?.['selector'] as { matchLabels?: Record<string, string> } | undefined;
  return Object.entries(selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function toScale(workload: KubeObject): KubeObject {
  const replicas = Number(workload.spec?.['replicas'] ?? 1);
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: workload.metadata.name,
      namespace: workload.metadata.namespace,
      uid: workload.metadata.uid,
      resourceVersion: workload.metadata.resourceVersion,
      creationTimestamp: workload.metadata.creationTimestamp,
    },
    spec: { replicas },
    status: { replicas: Number(workload.status?.['replicas'] ?? replicas), selector: selectorString(workload) },
  };
}

function readReplicas(scale: KubeObject): number {
  const replicas = scale.spec?.['replicas'];
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw badRequest('spec.replicas must be a non-negative integer');
  }
  return replicas;
}

/** The fake has no rollout controller: status follows spec at once so readers see the new count. */
function withReplicas(workload: KubeObject, replicas: number): KubeObject {
  return {
    ...workload,
    spec: { ...workload.spec, replicas },
    status: { ...workload.status, replicas, readyReplicas: replicas, availableReplicas: replicas },
  };
}

export function replaceScale(
  store: ObjectStore,
  type: ResourceType,
  namespace: string,
  name: string,
  body: unknown,
): KubeObject {
  const workload = store.get(type, namespace, name);
  const scale = body as KubeObject;
  const sent = scale?.metadata?.resourceVersion;
  if (sent && sent !== workload.metadata.resourceVersion) throw conflict(type.resource, name, type.kind);
  const replicas = readReplicas(scale);
  const next = withReplicas(workload, replicas);
  delete next.metadata.resourceVersion;
  return toScale(store.replace(type, namespace, name, next));
}

export function patchScale(
  store: ObjectStore,
  type: ResourceType,
  namespace: string,
  name: string,
  body: unknown,
  contentType: string | undefined,
): KubeObject {
  const workload = store.get(type, namespace, name);
  const current = toScale(workload);
  const patched = applyPatch(current, body, contentType) as KubeObject;
  if (patched.metadata?.resourceVersion !== current.metadata.resourceVersion) {
    throw conflict(type.resource, name, type.kind);
  }
  const next = withReplicas(workload, readReplicas(patched));
  delete next.metadata.resourceVersion;
  return toScale(store.replace(type, namespace, name, next));
}
