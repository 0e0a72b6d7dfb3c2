import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeKubernetes, type FakeKubernetes } from '../../src/sandbox/kubernetes/index.js';
import { createLeaseClient } from '../../src/clients/kubernetes/lease.js';
import {
  LeaderElectionConfigError,
  LeaseElector,
  createElector,
  validateLeaseTiming,
  type LeaseTiming,
} from '../../src/runtime/leader/index.js';

const NS = 'mc-controller';
const LEASE = 'mc-controller';
// Short timings that still satisfy lease > renew > 1.2 × retry.
const TIMING: LeaseTiming = { leaseDurationMs: 1500, renewDeadlineMs: 1000, retryPeriodMs: 200 };

async function until(cond: () => boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - start;
}

describe('lease timing validation', () => {
  it('accepts the defaults and the test timings', () => {
    expect(() => validateLeaseTiming({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).not.toThrow();
    expect(() => validateLeaseTiming(TIMING)).not.toThrow();
  });
  it.each([
    [{ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }, /greater than the renew deadline/],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }, /1.2 × retry period/],
    [{ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 0 }, /positive/],
  ])('rejects %o', (timing, message) => {
    expect(() => validateLeaseTiming(timing)).toThrow(LeaderElectionConfigError);
    expect(() => validateLeaseTiming(timing)).toThrow(message);
  });
});

describe('Lease leader election against the fake API server', () => {
  let k8s: FakeKubernetes;
  const electors: LeaseElector[] = [];

  function elector(identity: string, events: string[] = []): LeaseElector {
    const e = new LeaseElector({
      client: createLeaseClient(k8s.kubeConfig(NS), NS, LEASE),
      identity,
      timing: TIMING,
      callbacks: {
        onStartedLeading: () => events.push(`started:${identity}`),
        onStoppedLeading: (reason) => events.push(`stopped:${identity}:${reason}`),
      },
    });
    electors.push(e);
    return e;
  }

  beforeEach(async () => {
    k8s = await startFakeKubernetes();
  });
  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop()));
    await k8s.close();
  });

  it('lets exactly one of two electors lead, and records it in the Lease', async () => {
    const a = elector('pod-a');
    const b = elector('pod-b');
    a.start();
    b.start();
    await until(() => a.isLeader() || b.isLeader(), 3000);
    // Across several renew periods the answer stays single and stable.
    for (let i = 0; i < 8; i++) {
      expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 100));
    }
    const leader = a.isLeader() ? a : b;
    const standby = leader === a ? b : a;
    const lease = k8s.getLease(NS, LEASE);
    expect(lease?.spec?.['holderIdentity']).toBe(leader.identity);
    expect(lease?.spec?.['leaseDurationSeconds']).toBe(2);
    expect(String(lease?.spec?.['renewTime'])).toMatch(/\.\d{6}Z$/);
    expect(standby.currentHolder()).toBe(leader.identity);
  });

  it('hands over within leaseDuration + retry when the leader stops without releasing', async () => {
    const events: string[] = [];
    const a = elector('pod-a', events);
    await expect(a.tryAcquire()).resolves.toBe(true);
    a.start();
    const b = elector('pod-b', events);
    b.start();
    await new Promise((r) => setTimeout(r, 500));
    expect(b.isLeader()).toBe(false);

    await a.stop(); // a crash: the lease still names pod-a
    const before = Number(k8s.getLease(NS, LEASE)?.spec?.['leaseTransitions']);
    const tookMs = await until(() => b.isLeader(), 5000);
    // leaseDurationSeconds is rounded up to 2 s on the wire; + one jittered retry (≤ 2.2 × 0.2 s) + slack.
    expect(tookMs).toBeLessThan(2000 + 440 + 1000);
    expect(k8s.getLease(NS, LEASE)?.spec?.['holderIdentity']).toBe('pod-b');
    expect(Number(k8s.getLease(NS, LEASE)?.spec?.['leaseTransitions'])).toBe(before + 1);
    console.info(`[measure] crash handover took ${Math.round(tookMs)} ms (lease 2 s on the wire)`);
  });

  it('hands over at once when the leader releases', async () => {
    const a = elector('pod-a');
    await a.tryAcquire();
    a.start();
    const b = elector('pod-b');
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    await a.release();
    expect(k8s.getLease(NS, LEASE)?.spec?.['holderIdentity']).toBeUndefined();
    const tookMs = await until(() => b.isLeader(), 3000);
    expect(tookMs).toBeLessThan(TIMING.leaseDurationMs);
    expect(a.isLeader()).toBe(false);
    console.info(`[measure] release handover took ${Math.round(tookMs)} ms`);
  });

  it('treats a 409 on the write as a lost race', async () => {
    k8s.injectConflictOnce();
    const a = elector('pod-a');
    await expect(a.tryAcquire()).resolves.toBe(false);
    expect(a.isLeader()).toBe(false);
    expect(k8s.getLease(NS, LEASE)).toBeUndefined();
    await expect(a.tryAcquire()).resolves.toBe(true);
  });

  it('lets only one of two simultaneous creators win', async () => {
    const a = elector('pod-a');
    const b = elector('pod-b');
    const results = await Promise.all([a.tryAcquire(), b.tryAcquire()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
  });

  it('does not take over a lease another holder keeps renewing', async () => {
    const start = Date.now();
    const micro = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');
    k8s.putLease(NS, LEASE, { holderIdentity: 'other', leaseDurationSeconds: 1, renewTime: micro(start), leaseTransitions: 3 });
    const b = elector('pod-b');
    b.start();
    const renewer = setInterval(() => {
      k8s.putLease(NS, LEASE, { holderIdentity: 'other', leaseDurationSeconds: 1, renewTime: micro(Date.now()), leaseTransitions: 3 });
    }, 150);
    try {
      await new Promise((r) => setTimeout(r, 2000));
      expect(b.isLeader()).toBe(false);
      expect(b.currentHolder()).toBe('other');
    } finally {
      clearInterval(renewer);
    }
    // The other holder stops renewing: b takes over after observing no change for 1 s.
    await until(() => b.isLeader(), 3000);
    expect(k8s.getLease(NS, LEASE)?.spec?.['leaseTransitions']).toBe(4);
  });

  it('steps down when the lease is taken away or the API server is gone', async () => {
    const events: string[] = [];
    const a = elector('pod-a', events);
    await a.tryAcquire();
    a.start();
    k8s.putLease(NS, LEASE, { holderIdentity: 'intruder', leaseDurationSeconds: 15, leaseTransitions: 9 });
    await until(() => !a.isLeader(), 2000);
    expect(events.at(-1)).toMatch(/^stopped:pod-a:lease taken by intruder/);

    const c = elector('pod-c', events);
    k8s.putLease(NS, LEASE, { holderIdentity: null, leaseTransitions: 9 });
    await c.tryAcquire();
    c.start();
    await k8s.close();
    const tookMs = await until(() => events.some((e) => e.startsWith('stopped:pod-c:failed to renew')), 3000);
    expect(c.isLeader()).toBe(false);
    expect(tookMs).toBeLessThan(TIMING.renewDeadlineMs + 1000);
    k8s = await startFakeKubernetes(); // afterEach closes it
  });

  it('builds a lease elector from settings and rejects bad timing', async () => {
    const settings = { leaseName: LEASE, leaseNamespace: NS, leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };
    const built = await createElector({ ...settings, identity: 'x' }, { kubeConfig: k8s.kubeConfig(NS) });
    expect(built.kind).toBe('lease');
    await expect(createElector({ ...settings, retryPeriodSeconds: 9 }, { kubeConfig: k8s.kubeConfig(NS) })).rejects.toThrow(
      LeaderElectionConfigError,
    );
    expect((await createElector({ ...settings, lockFile: '/tmp/x.lock' })).kind).toBe('lockfile');
    expect((await createElector({ ...settings, mode: 'none' })).kind).toBe('single');
  });
});

describe('Lease client against an API server that never answers', () => {
  it('abandons a read and a write when the caller signal aborts (renew deadline)', async () => {
    const { createServer } = await import('node:http');
    const { KubeConfig } = await import('@kubernetes/client-node');
    const held: import('node:http').ServerResponse[] = [];
    const server = createServer((_req, res) => void held.push(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as import('node:net').AddressInfo).port;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'silent', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'silent', cluster: 'silent', user: 'u', namespace: NS }],
      currentContext: 'silent',
    });
    const client = createLeaseClient(kc, NS, LEASE);
    try {
      const started = performance.now();
      await expect(client.get(AbortSignal.timeout(200))).rejects.toThrow(/read lease/);
      const record = { holderIdentity: 'pod-a', leaseDurationSeconds: 15, acquireTime: 0, renewTime: 0, leaseTransitions: 0 };
      await expect(client.replace({ ...record, resourceVersion: '1' }, AbortSignal.timeout(200))).rejects.toThrow(/replace lease/);
      // Both requests reached the server and were cut at their deadline, not at some socket timeout.
      expect(held).toHaveLength(2);
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
