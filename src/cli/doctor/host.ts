/** Local checks: the memory signal degrade mode reads, and who holds the controller lock or Lease (read-only). */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../../config/index.js';
import { hasHostSignal, readPressure, type PressureSample } from '../../clients/node-pressure/index.js';
import { createLeaseClient } from '../../clients/kubernetes/lease.js';
import { currentNamespace } from '../../clients/kubernetes/kubeconfig.js';
import { makeNodeMemoryPressureReader } from '../../clients/kubernetes/node-memory-pressure.js';
import { LockFileElector, pidAlive } from '../../runtime/leader/index.js';
import { errorText, fail, pass, skip, warn, type CheckResult } from './check.js';

const MiB = 1024 * 1024;
const pct = (used: number, total: number) => `${Math.round((used / total) * 100)} %`;

function describeSample(s: PressureSample): string {
  const parts: string[] = [];
  if (s.cgroup) {
    const limit = s.cgroup.limitBytes;
    parts.push(
      `cgroup v${s.cgroup.version} ${Math.round(s.cgroup.currentBytes / MiB)} MiB${limit ? ` of ${Math.round(limit / MiB)} MiB (${pct(s.cgroup.currentBytes, limit)})` : ' (no limit)'}`,
    );
  }
  if (s.meminfo) parts.push(`host ${pct(s.meminfo.totalBytes - s.meminfo.availableBytes, s.meminfo.totalBytes)} used`);
  if (s.psi) parts.push(`PSI (${s.psi.source}) some avg10 ${s.psi.some.avg10}`);
  return parts.join(', ');
}

export async function memoryCheck(config: Config): Promise<CheckResult> {
  const sample = await readPressure({ root: config.degrade.hostRoot, heap: false });
  const where = config.degrade.hostRoot === '/' ? '' : ` under MC_HOST_ROOT=${config.degrade.hostRoot}`;
  if (!hasHostSignal(sample))
    return fail(
      'memory signal',
      `no cgroup, PSI or /proc/meminfo readable${where}`,
      'degrade mode cannot see memory pressure: on Linux check MC_HOST_ROOT; in a container mount the host /proc read-only or rely on the cgroup files',
    );
  const detail = describeSample(sample) + where;
  if (sample.problems.length > 0) return warn('memory signal', detail, `unreadable: ${sample.problems.join('; ')}`);
  return pass('memory signal', detail);
}

/** MC_NODE_NAME: the kubelet's MemoryPressure condition, read the way degrade mode reads it (in a pod). */
export async function nodePressureCheck(config: Config, kubeConfig: KubeConfig | undefined): Promise<CheckResult> {
  const node = config.degrade.nodeName;
  if (!node) return skip('node memory pressure', 'MC_NODE_NAME unset: the Node condition is not read');
  if (!kubeConfig)
    return warn('node memory pressure', `MC_NODE_NAME=${node} but no in-cluster Kubernetes configuration`, 'the Node condition is read only in a pod; outside one, unset MC_NODE_NAME');
  try {
    const pressure = await makeNodeMemoryPressureReader(kubeConfig, node)();
    if (pressure === null)
      return warn('node memory pressure', `node ${node}: no MemoryPressure condition (or Unknown)`, 'the kubelet reports no usable condition; degrade mode relies on the local signals');
    return pass('node memory pressure', `node ${node}: MemoryPressure=${pressure ? 'True' : 'False'}`);
  } catch (err) {
    return fail('node memory pressure', `node ${node}: ${errorText(err)}`, 'the service account needs get on nodes (the ClusterRole in manifests/)');
  }
}

function age(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.round(s / 60)} min`;
}

function lockFileCheck(config: Config): CheckResult {
  const path = config.ops.lockFile ?? join(config.loop.stateDir, 'controller.lock');
  // Constructing an elector takes nothing: only readLock() is called, which opens the file read-only.
  const lock = new LockFileElector({ path, identity: 'mc-controller-doctor' }).readLock();
  if (lock === undefined) return pass('leader', `lock file ${path}: free (no instance is acting)`);
  if (lock === 'torn') return warn('leader', `lock file ${path}: unreadable`, 'an instance may be writing it right now; if it stays unreadable, stop every instance and remove it');
  const started = `started ${age(Date.now() - lock.startedAt)} ago`;
  if (lock.hostname !== hostname())
    return pass('leader', `lock file ${path}: held by ${lock.identity} (pid ${lock.pid} on host ${lock.hostname}, ${started}; not checkable from here)`);
  if (!pidAlive(lock.pid))
    return warn(
      'leader',
      `lock file ${path}: held by ${lock.identity} (pid ${lock.pid} on ${lock.hostname}, ${started}), process not running here`,
      'a stale lock of a dead process is taken over by the next instance; no action needed unless the holder runs on another host',
    );
  return pass('leader', `lock file ${path}: held by ${lock.identity} (pid ${lock.pid}, ${started})`);
}

async function leaseCheck(config: Config, kc: KubeConfig): Promise<CheckResult> {
  const namespace = config.ops.leaseNamespace ?? currentNamespace(kc);
  const where = `Lease ${namespace}/${config.ops.leaseName}`;
  try {
    const lease = await createLeaseClient(kc, namespace, config.ops.leaseName).get();
    if (!lease || !lease.holderIdentity) return pass('leader', `${where}: free (no instance is acting)`);
    const renewed = lease.renewTime ?? lease.acquireTime;
    const expired = renewed === null || Date.now() - renewed > lease.leaseDurationSeconds * 1000;
    const detail = `${where}: held by ${lease.holderIdentity}${renewed ? `, renewed ${age(Date.now() - renewed)} ago` : ''}, ${lease.leaseTransitions} transition(s)`;
    return expired
      ? warn('leader', `${detail}, expired`, 'no instance renews the Lease: check that a controller pod is running')
      : pass('leader', detail);
  } catch (err) {
    return fail('leader', `${where}: ${errorText(err)}`, 'the service account needs get on leases (see manifests/ Role)');
  }
}

export async function leaderCheck(config: Config, kubeConfig: KubeConfig | undefined): Promise<CheckResult> {
  const mode = config.ops.leaderElection;
  if (mode === 'none') return skip('leader', 'leader election off (MC_LEADER_ELECTION=none)');
  if (mode === 'lease' && !kubeConfig)
    return fail('leader', 'MC_LEADER_ELECTION=lease but no Kubernetes configuration', 'run in a pod, or point KUBECONFIG at a kubeconfig file');
  if (mode === 'lockfile' || !kubeConfig) return lockFileCheck(config);
  return leaseCheck(config, kubeConfig);
}
