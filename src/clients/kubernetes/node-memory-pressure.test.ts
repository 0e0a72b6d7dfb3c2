import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeKubernetes, type FakeKubernetes } from '../../sandbox/kubernetes/index.js';
import { makeNodeMemoryPressureReader } from './node-memory-pressure.js';

describe('Node MemoryPressure reader', () => {
  let k8s: FakeKubernetes;
  beforeEach(async () => {
    k8s = await startFakeKubernetes();
  });
  afterEach(async () => {
    await k8s.close();
  });

  it('follows the kubelet condition', async () => {
    k8s.addNode('worker-1');
    const read = makeNodeMemoryPressureReader(k8s.kubeConfig(), 'worker-1');
    expect(await read()).toBe(false);
    k8s.setMemoryPressure('worker-1', true);
    expect(await read()).toBe(true);
  });

  it('throws for a missing node (the monitor logs it and treats the signal as unknown)', async () => {
    await expect(makeNodeMemoryPressureReader(k8s.kubeConfig(), 'nope')()).rejects.toMatchObject({ code: 404 });
  });
});
