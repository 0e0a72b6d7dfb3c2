import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startFakeKubernetes, type FakeKubernetes } from '../../sandbox/kubernetes/index.js';
import { KubernetesScaler, ORIGINAL_REPLICAS_ANNOTATION } from '../../clients/kubernetes/scale.js';
import type { ScaleAction } from '../../model/index.js';
import { makeScaleHandler } from './kubernetes-scale.js';

const NS = 'openclaw';
const ctx = { logger: pino({ level: 'silent' }) };

const action = (kind: ScaleAction['kind'], name: string, replicas: number, restore = false): ScaleAction => ({
  type: 'k8s.scale',
  key: 'global/degrade',
  reconciler: 'degrade',
  reason: 'test',
  idempotencyKey: `t/${kind}/${name}/${restore}`,
  kind,
  namespace: NS,
  name,
  replicas,
  restore,
});

describe('k8s.scale handler against the fake API server', () => {
  let k8s: FakeKubernetes;
  let scaler: KubernetesScaler;
  beforeEach(async () => {
    k8s = await startFakeKubernetes();
    scaler = new KubernetesScaler(k8s.kubeConfig(NS));
    k8s.addDeployment({ namespace: NS, name: 'browser-pool', replicas: 3, labels: { tier: 'burst' } });
    k8s.addStatefulSet({ namespace: NS, name: 'scratch-db', replicas: 2, labels: { tier: 'burst' } });
    k8s.addDeployment({ namespace: NS, name: 'gateway', replicas: 1, labels: { tier: 'core' } });
  });
  afterEach(async () => {
    await k8s.close();
  });

  const replicas = (kind: 'Deployment' | 'StatefulSet', name: string) => k8s.getWorkload(kind, NS, name)?.spec?.['replicas'];
  const annotation = (kind: 'Deployment' | 'StatefulSet', name: string) =>
    (k8s.getWorkload(kind, NS, name)?.metadata.annotations as Record<string, string> | undefined)?.[ORIGINAL_REPLICAS_ANNOTATION];

  it('lists workloads by label selector and by name', async () => {
    const bySelector = await scaler.listSelected({ namespace: NS, selector: 'tier=burst' });
    expect(bySelector.map((w) => `${w.kind}/${w.name}:${w.replicas}`).sort()).toEqual(['Deployment/browser-pool:3', 'StatefulSet/scratch-db:2']);
    const byName = await scaler.listSelected({ namespace: NS, names: ['gateway', 'StatefulSet/scratch-db', 'missing'] });
    expect(byName.map((w) => w.name).sort()).toEqual(['gateway', 'scratch-db']);
  });

  it('scales down with the original in an annotation, then restores and removes it', async () => {
    const handle = makeScaleHandler(scaler);
    expect((await handle(action('Deployment', 'browser-pool', 0), ctx)).outcome).toBe('applied');
    expect((await handle(action('StatefulSet', 'scratch-db', 1), ctx)).outcome).toBe('applied');
    expect(replicas('Deployment', 'browser-pool')).toBe(0);
    expect(replicas('StatefulSet', 'scratch-db')).toBe(1);
    expect(annotation('Deployment', 'browser-pool')).toBe('3');
    expect(annotation('StatefulSet', 'scratch-db')).toBe('2');
    expect(replicas('Deployment', 'gateway')).toBe(1);

    // a repeated scale-down keeps the true original, not the degraded count
    expect((await handle(action('Deployment', 'browser-pool', 0), ctx)).outcome).toBe('skipped');
    expect(annotation('Deployment', 'browser-pool')).toBe('3');

    const listed = await scaler.listSelected({ namespace: NS, selector: 'tier=burst' });
    expect(listed.find((w) => w.name === 'browser-pool')?.originalReplicas).toBe(3);

    expect((await handle(action('Deployment', 'browser-pool', 3, true), ctx)).outcome).toBe('applied');
    expect((await handle(action('StatefulSet', 'scratch-db', 2, true), ctx)).outcome).toBe('applied');
    expect(replicas('Deployment', 'browser-pool')).toBe(3);
    expect(replicas('StatefulSet', 'scratch-db')).toBe(2);
    expect(annotation('Deployment', 'browser-pool')).toBeUndefined();
    expect(annotation('StatefulSet', 'scratch-db')).toBeUndefined();
    // restoring again is a no-op
    expect((await handle(action('Deployment', 'browser-pool', 3, true), ctx)).outcome).toBe('skipped');

    const patches = k8s.requests.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBeGreaterThan(0);
    for (const p of patches) expect(p.contentType).toBe('application/merge-patch+json');
  });

  it('retries a 409 conflict and still lands the scale-down', async () => {
    k8s.injectConflictOnce();
    const out = await makeScaleHandler(scaler)(action('Deployment', 'browser-pool', 1), ctx);
    expect(out.outcome).toBe('applied');
    expect(k8s.requests.some((r) => r.status === 409)).toBe(true);
    expect(replicas('Deployment', 'browser-pool')).toBe(1);
    expect(annotation('Deployment', 'browser-pool')).toBe('3');
  });

  it('gives up after repeated conflicts so the executor can back off', async () => {
    const stubborn = new KubernetesScaler(k8s.kubeConfig(NS), { conflictRetries: 0 });
    k8s.injectConflictOnce();
    await expect(makeScaleHandler(stubborn)(action('Deployment', 'browser-pool', 0), ctx)).rejects.toMatchObject({ name: 'KubernetesApiError', code: 409 });
  });

  it('skips a workload that no longer exists', async () => {
    const out = await makeScaleHandler(scaler)(action('Deployment', 'gone', 0), ctx);
    expect(out).toMatchObject({ outcome: 'skipped', detail: expect.stringContaining('not found') });
  });
});
