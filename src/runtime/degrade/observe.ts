import type { KubernetesScaler, ScaleTargets, WorkloadView } from '../../clients/kubernetes/scale.js';
import { listProcesses, protectedReason, redactCommand, selfIdentity, type SelfIdentity } from '../../clients/process/index.js';
import type { DegradeStatus } from './monitor.js';

/**
 * Gathers `GlobalSnapshot.pressure` for the degrade planner: the monitor's mode plus the workloads and processes
 * the effects would touch. Shaped to the planner's `degradeInputSchema` (reconcilers/degrade/input.ts), which
 * validates it; the machinery does not import the concern, so the two meet only in that shape.
 */

export interface ObservedProcess {
  pid: number;
  ppid: number | null;
  /** redacted (secret-looking argv values are `***`) */
  command: string;
  exe: string | null;
  protectedReason: string | null;
}

export interface DegradeObservation extends DegradeStatus {
  effects: { noticesDone: string[] };
  workloads: WorkloadView[];
  processes: ObservedProcess[];
  self: SelfIdentity;
}

export interface ObserveDegradeDeps {
  monitor: { current(): DegradeStatus };
  /** set in Kubernetes when MC_DEGRADE_SCALE_SELECTOR or names are configured */
  scale?: { scaler: Pick<KubernetesScaler, 'listSelected'>; targets: ScaleTargets };
  /** set when MC_RESOURCE_MONITOR_KILL=1; the process table is read only while degraded */
  kill?: { root?: string };
  self?: SelfIdentity;
  onSkip?: (problem: string) => void;
}

async function readProcesses(root: string, self: SelfIdentity): Promise<ObservedProcess[]> {
  return (await listProcesses(root)).map((p) => ({
    pid: p.pid,
    ppid: p.ppid,
    command: redactCommand(p.argv),
    exe: p.exe,
    protectedReason: protectedReason(p, self),
  }));
}

/** One-shot gathering, for `once` / `plan`. */
export async function observeDegrade(deps: ObserveDegradeDeps): Promise<DegradeObservation> {
  const cache = new DegradeInputCache(deps);
  await cache.refresh();
  return cache.get();
}

/**
 * The controller asks for `pressure()` synchronously while building a snapshot, so the slow parts (Kubernetes
 * list, /proc scan) are refreshed ahead — call refresh() on a transition before enqueuing `global/degrade`, and on
 * resync — and get() combines them with the monitor's live mode.
 */
export class DegradeInputCache {
  private workloads: WorkloadView[] = [];
  private processes: ObservedProcess[] = [];
  private readonly self: SelfIdentity;

  constructor(private readonly deps: ObserveDegradeDeps) {
    this.self = deps.self ?? selfIdentity();
  }

  /** Rejects when the Kubernetes list fails (the previous list is kept); the process scan never fails. */
  async refresh(): Promise<void> {
    const degraded = this.deps.monitor.current().mode === 'degrade';
    this.processes = this.deps.kill && degraded ? await readProcesses(this.deps.kill.root ?? '/', this.self) : [];
    if (this.deps.scale) this.workloads = await this.deps.scale.scaler.listSelected(this.deps.scale.targets, this.deps.onSkip);
  }

  get(): DegradeObservation {
    const status = this.deps.monitor.current();
    // a list taken while normal must not feed a kill decision after entering degrade
    const processes = status.mode === 'degrade' ? this.processes : [];
    return { ...status, effects: { noticesDone: [] }, workloads: this.workloads, processes, self: this.self };
  }
}
