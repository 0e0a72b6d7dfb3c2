import { describe, expect, it } from 'vitest';
import { Child } from '../harness/child.js';
import { controllerEnv, startRun, stateDir } from '../harness/controller-provider.js';
import { TEST_LABEL } from '../harness/image.js';
import { loadTestcontainers, probeContainerRuntime, resolveMode } from '../harness/mode.js';
import { startSandboxDep } from '../harness/sandbox-provider.js';
import { startFakeKubernetes } from '../../../src/sandbox/kubernetes/index.js';

/** The harness itself: TEST_DEPS handling, fast fallback, failure messages and cleanup. */
describe('integration harness', () => {
  it('TEST_DEPS: process skips containers, auto falls back within milliseconds, container fails fast and clearly', async () => {
    expect(await resolveMode({ TEST_DEPS: 'process' })).toBe('process');
    await expect(resolveMode({ TEST_DEPS: 'sometimes' })).rejects.toThrow(/TEST_DEPS must be auto, container or process/);
    const probe = await probeContainerRuntime();
    console.log(`[deps] container runtime ${probe.available ? 'available' : `unavailable: ${probe.reason}`}; probe ${probe.ms.toFixed(1)} ms`);
    if (probe.available) return; // a machine with an engine: the container path is the one under test
    const t0 = performance.now();
    expect(await resolveMode({ TEST_DEPS: 'auto' })).toBe('process');
    expect(performance.now() - t0).toBeLessThan(2_000);
    await expect(resolveMode({ TEST_DEPS: 'container' })).rejects.toThrow(/TEST_DEPS=container but no container runtime answers/);
  });

  it('a child that dies before its ready line fails with its stderr tail', async () => {
    const child = new Child(['sandbox', '--seed', 'bogus'], {});
    await expect(child.readyLine('sandbox')).rejects.toThrow(/exited .*before it was ready[\s\S]*--seed must be demo or empty/);
  });

  it('the sandbox provider starts on random loopback ports and stop() leaves no process behind', async () => {
    const a = await startSandboxDep({ seed: 'empty', mode: 'process' });
    const b = await startSandboxDep({ seed: 'empty', mode: 'process' });
    try {
      for (const dep of [a, b]) {
        expect(dep.info.mcApiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
        expect((await fetch(`${dep.info.controlUrl}/health`)).ok).toBe(true);
      }
      expect(a.info.mcApiUrl).not.toBe(b.info.mcApiUrl);
    } finally {
      await a.stop();
      await b.stop();
    }
    await expect(fetch(`${a.info.controlUrl}/health`)).rejects.toThrow();
  });

  it('container mode: the sandbox and a controller run as the image and stop() leaves no container behind', async (ctx) => {
    const probe = await probeContainerRuntime();
    if (!probe.available) return ctx.skip();
    const tc = await loadTestcontainers();
    const client = await tc.getContainerRuntimeClient();
    const ours = async () => (await client.container.list()).filter((c) => c.Labels?.[TEST_LABEL] === 'true' && c.State === 'running');
    const before = (await ours()).length;
    const dep = await startSandboxDep({ seed: 'empty', mode: 'container' });
    const state = stateDir();
    try {
      expect(dep.mode).toBe('container');
      expect((await fetch(`${dep.info.controlUrl}/health`)).ok).toBe(true);
      const run = await startRun(controllerEnv(dep.info, state.path), { mode: 'container', waitReady: true });
      expect((await ours()).length).toBe(before + 2);
      await run.stop();
      expect(run.running()).toBe(false);
    } finally {
      await dep.stop();
      state.remove();
    }
    expect((await ours()).length).toBe(before);
  }, 120_000);

  it('the fake Kubernetes API runs in-process on a random loopback port', async () => {
    const k8s = await startFakeKubernetes();
    try {
      expect(k8s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await k8s.close();
    }
  });
});
