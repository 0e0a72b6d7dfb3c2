import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type ApiException,
} from '@kubernetes/client-node';
import { startFakeKubernetes, type FakeKubernetes } from './index.js';

const NS = 'mc-controller';

async function codeOf(promise: Promise<unknown>): Promise<{ code: number; reason: string | undefined }> {
  try {
    await promise;
  } catch (err) {
    const e = err as ApiException<unknown>;
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    return { code: e.code, reason: (body as { reason?: string } | undefined)?.reason };
  }
  throw new Error('expected the call to fail');
}

describe('fake Kubernetes API server', () => {
  let k8s: FakeKubernetes;
  beforeEach(async () => {
    k8s = await startFakeKubernetes();
  });
  afterEach(async () => {
    await k8s.close();
  });

  it('rejects a request without the bearer token', async () => {
    const res = await fetch(`${k8s.url}/api/v1/nodes`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ kind: 'Status', code: 401, reason: 'Unauthorized' });
  });

  it('creates, reads and replaces a Lease with optimistic concurrency', async () => {
    const api = k8s.kubeConfig().makeApiClient(CoordinationV1Api);
    expect(await codeOf(api.readNamespacedLease({ namespace: NS, name: 'l' }))).toEqual({ code: 404, reason: 'NotFound' });

    const created = await api.createNamespacedLease({
      namespace: NS,
      body: { metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } },
    });
    expect(created.metadata?.resourceVersion).toBeTruthy();
    expect(
      await codeOf(api.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'l' }, spec: {} } })),
    ).toEqual({ code: 409, reason: 'AlreadyExists' });

    // client-node sends a Date with milliseconds; MicroTime wants six digits, so the server says 400.
    expect(
      await codeOf(
        api.replaceNamespacedLease({ namespace: NS, name: 'l', body: { ...created, spec: { ...created.spec, renewTime: new Date() } } }),
      ),
    ).toEqual({ code: 400, reason: 'BadRequest' });
    const micro = '2026-01-02T03:04:05.123456Z' as unknown as Date;
    const renewed = await api.replaceNamespacedLease({
      namespace: NS,
      name: 'l',
      body: { ...created, spec: { ...created.spec, renewTime: micro } },
    });
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    // client-node 1.4.0 hands MicroTime back as the raw string, not a Date.
    expect(String(renewed.spec?.renewTime)).toBe('2026-01-02T03:04:05.123456Z');

    // Replaying the old resourceVersion is the lost race.
    expect(await codeOf(api.replaceNamespacedLease({ namespace: NS, name: 'l', body: created }))).toEqual({
      code: 409,
      reason: 'Conflict',
    });

    const patched = await api.patchNamespacedLease(
      { namespace: NS, name: 'l', body: { spec: { holderIdentity: 'b' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(patched.spec?.holderIdentity).toBe('b');
    expect(k8s.getLease(NS, 'l')?.spec?.['holderIdentity']).toBe('b');
  });

  it('injects exactly one conflict on the next write', async () => {
    const api = k8s.kubeConfig().makeApiClient(CoordinationV1Api);
    k8s.injectConflictOnce();
    expect(
      await codeOf(api.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'x' }, spec: {} } })),
    ).toMatchObject({ code: 409 });
    await api.createNamespacedLease({ namespace: NS, body: { metadata: { name: 'x' }, spec: {} } });
    expect(k8s.getLease(NS, 'x')).toBeDefined();
  });

  it('serves nodes with a MemoryPressure condition that tests can flip', async () => {
    k8s.addNode('n1');
    k8s.addNode('n2', { memoryPressure: true });
    const api = k8s.kubeConfig().makeApiClient(CoreV1Api);
    const list = await api.listNode();
    expect(list.items.map((n) => n.metadata?.name).sort()).toEqual(['n1', 'n2']);
    const pressure = (name: string) =>
      api.readNode({ name }).then((n) => n.status?.conditions?.find((c) => c.type === 'MemoryPressure')?.status);
    expect(await pressure('n1')).toBe('False');
    expect(await pressure('n2')).toBe('True');
    k8s.setMemoryPressure('n1', true);
    expect(await pressure('n1')).toBe('True');
  });

  it('lists workloads by label selector and merge-patches annotations', async () => {
    k8s.addDeployment({ namespace: NS, name: 'web', replicas: 3, labels: { app: 'web', tier: 'front' } });
    k8s.addDeployment({ namespace: NS, name: 'batch', replicas: 1, labels: { app: 'batch', tier: 'back' } });
    k8s.addStatefulSet({ namespace: NS, name: 'db', replicas: 2, labels: { app: 'db', tier: 'back' } });
    const apps = k8s.kubeConfig().makeApiClient(AppsV1Api);

    const names = async (labelSelector: string) =>
      (await apps.listNamespacedDeployment({ namespace: NS, labelSelector })).items.map((d) => d.metadata?.name).sort();
    expect(await names('tier=front')).toEqual(['web']);
    expect(await names('tier!=front')).toEqual(['batch']);
    expect(await names('app in (web,batch)')).toEqual(['batch', 'web']);
    expect(await names('app notin (web),tier')).toEqual(['batch']);
    expect(await names('!tier')).toEqual([]);
    expect((await apps.listNamespacedStatefulSet({ namespace: NS, labelSelector: 'tier=back' })).items).toHaveLength(1);

    // The generated client's default patch Content-Type is json-patch; an object body is a 400 like the real server.
    expect(
      await codeOf(
        apps.patchNamespacedDeployment({ namespace: NS, name: 'web', body: { metadata: { annotations: { a: '1' } } } }),
      ),
    ).toEqual({ code: 400, reason: 'BadRequest' });

    for (const strategy of [PatchStrategy.MergePatch, PatchStrategy.StrategicMergePatch]) {
      await apps.patchNamespacedDeployment(
        { namespace: NS, name: 'web', body: { metadata: { annotations: { strategy } } } },
        setHeaderOptions('Content-Type', strategy),
      );
      expect(k8s.getWorkload('Deployment', NS, 'web')?.metadata.annotations?.['strategy']).toBe(strategy);
    }
    const jsonPatched = await apps.patchNamespacedDeployment({
      namespace: NS,
      name: 'web',
      body: [{ op: 'add', path: '/metadata/annotations/json', value: 'yes' }],
    });
    expect(jsonPatched.metadata?.annotations?.['json']).toBe('yes');
  });

  it('scales through the /scale subresource with a resourceVersion precondition', async () => {
    k8s.addDeployment({ namespace: NS, name: 'web', replicas: 3 });
    k8s.addStatefulSet({ namespace: NS, name: 'db', replicas: 2 });
    const apps = k8s.kubeConfig().makeApiClient(AppsV1Api);

    const scale = await apps.readNamespacedDeploymentScale({ namespace: NS, name: 'web' });
    expect(scale.kind).toBe('Scale');
    expect(scale.spec?.replicas).toBe(3);

    const down = await apps.replaceNamespacedDeploymentScale({
      namespace: NS,
      name: 'web',
      body: { ...scale, spec: { replicas: 0 } },
    });
    expect(down.spec?.replicas).toBe(0);
    expect(k8s.getWorkload('Deployment', NS, 'web')?.spec?.['replicas']).toBe(0);
    expect(
      await codeOf(apps.replaceNamespacedDeploymentScale({ namespace: NS, name: 'web', body: { ...scale, spec: { replicas: 1 } } })),
    ).toEqual({ code: 409, reason: 'Conflict' });

    await apps.patchNamespacedStatefulSetScale(
      { namespace: NS, name: 'db', body: { spec: { replicas: 0 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(k8s.getWorkload('StatefulSet', NS, 'db')?.spec?.['replicas']).toBe(0);
    expect(await codeOf(apps.readNamespacedStatefulSetScale({ namespace: NS, name: 'nope' }))).toEqual({
      code: 404,
      reason: 'NotFound',
    });
  });

  it('answers unknown paths and unsupported patch types with Status errors', async () => {
    const headers = { authorization: `Bearer ${k8s.token}` };
    const unknown = await fetch(`${k8s.url}/api/v1/pods`, { headers });
    expect(unknown.status).toBe(404);
    k8s.addDeployment({ namespace: NS, name: 'web', replicas: 1 });
    const res = await fetch(`${k8s.url}/apis/apps/v1/namespaces/${NS}/deployments/web`, {
      method: 'PATCH',
      headers: { ...headers, 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType' });
  });
});
