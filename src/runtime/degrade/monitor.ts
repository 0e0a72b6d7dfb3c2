import type { Logger } from 'pino';
import { readPressure } from '../../clients/node-pressure/index.js';
import { initialHysteresisState, step, type DegradeMode, type HysteresisState, type Transition } from './hysteresis.js';
import { validateDegradeSettings, type DegradeSettings } from './settings.js';
import type { Evaluation } from './signals.js';

/** What the planner and /readyz need of the last sample: its judgement, plain JSON, no file paths. */
export interface SampleSummary extends Evaluation {
  at: number;
}

export interface DegradeStatus {
  mode: DegradeMode;
  since: number;
  lastSample: SampleSummary | null;
  lastTransition: Transition | null;
}

export interface DegradeMonitorOptions {
  settings: DegradeSettings;
  logger: Logger;
  /** MC_HOST_ROOT (default `/`) */
  root?: string;
  /** include this process's V8 heap (default true) */
  heap?: boolean;
  /** the Kubernetes Node's MemoryPressure condition (set when MC_NODE_NAME is); null = unknown */
  readNodeMemoryPressure?: () => Promise<boolean | null>;
  /** the Node is read at most this often; the kubelet itself only re-evaluates every 10 s (default 10 s) */
  nodeReadIntervalMs?: number;
  /** the lead enqueues `global/degrade` here; called after current() already shows the new mode */
  onTransition?: (transition: Transition, status: DegradeStatus) => void;
  /** resume the mode recorded in the state file */
  restored?: { mode: DegradeMode; since: number };
  /** resume the whole machine (one-shot runs under cron carry their dwell timers from run to run) */
  restoredState?: HysteresisState;
  now?: () => number;
}

/** Samples memory signals on a timer and runs them through the hysteresis machine. */
export class DegradeMonitor {
  private state: HysteresisState;
  private lastSample: SampleSummary | null = null;
  private lastTransition: Transition | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private inFlight: Promise<DegradeStatus> | null = null;
  private node: { value: boolean | null; readAt: number } | null = null;
  private readonly seenProblems = new Set<string>();
  private warned = false;
  private reportedNoSignal = false;
  private readonly now: () => number;

  constructor(private readonly opts: DegradeMonitorOptions) {
    const problems = validateDegradeSettings(opts.settings);
    if (problems.length > 0) throw new Error(`invalid degrade settings: ${problems.join('; ')}`);
    this.now = opts.now ?? Date.now;
    this.state = opts.restoredState ?? initialHysteresisState(this.now(), opts.restored);
  }

  /** The machine's full state, to persist between one-shot runs. */
  machineState(): HysteresisState {
    return this.state;
  }

  current(): DegradeStatus {
    return { mode: this.state.mode, since: this.state.since, lastSample: this.lastSample, lastTransition: this.lastTransition };
  }

  /** One read + step; also what `once`/`plan` call. Concurrent calls share the read in flight. */
  sampleOnce(): Promise<DegradeStatus> {
    this.inFlight ??= this.sample().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = (): void => {
      void this.sampleOnce()
        .catch((err: unknown) => this.opts.logger.error({ err: (err as Error).message }, 'degrade: sampling failed'))
        .finally(() => {
          if (!this.running) return;
          this.timer = setTimeout(tick, this.opts.settings.sampleIntervalMs);
          this.timer.unref();
        });
    };
    tick();
  }

  /** Leaves no timer behind and waits for a read in flight. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight) await this.inFlight.catch(() => undefined);
  }

  private async readNode(now: number): Promise<boolean | null> {
    const read = this.opts.readNodeMemoryPressure;
    if (!read) return null;
    const every = this.opts.nodeReadIntervalMs ?? 10_000;
    if (this.node && now - this.node.readAt < every) return this.node.value;
    let value: boolean | null = null;
    try {
      value = await read();
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'degrade: cannot read the Node MemoryPressure condition');
    }
    this.node = { value, readAt: now };
    return value;
  }

  private async sample(): Promise<DegradeStatus> {
    const log = this.opts.logger;
    const now = this.now();
    const sample = await readPressure({ root: this.opts.root ?? '/', heap: this.opts.heap ?? true, now: () => now });
    sample.nodeMemoryPressure = await this.readNode(now);
    for (const p of sample.problems) {
      if (this.seenProblems.has(p)) continue;
      this.seenProblems.add(p);
      log.warn({ problem: p }, 'degrade: memory signal file present but unreadable; ignoring it');
    }
    const { state, transition, evaluation } = step(this.state, sample, now, this.opts.settings);
    this.state = state;
    this.lastSample = { at: sample.at, ...evaluation };
    this.logLevels(evaluation);
    if (transition) {
      this.lastTransition = transition;
      const fields = { to: transition.to, reason: transition.reason, ...transition.detail };
      if (transition.to === 'degrade') log.warn(fields, 'degrade mode entered');
      else log.info(fields, 'degrade mode left');
      this.opts.onTransition?.(transition, this.current());
    }
    return this.current();
  }

  /** Logs edges only (warn level, no-signal), so a 2 s sampler does not flood the log. */
  private logLevels(ev: Evaluation): void {
    const log = this.opts.logger;
    if (ev.warn && !this.warned) log.warn({ usedPct: ev.values.usedPct, warnPct: this.opts.settings.warnUsedPct }, 'memory use above the warn level');
    this.warned = ev.warn;
    if (ev.noSignal && !this.reportedNoSignal) log.warn('degrade: no memory signal readable on this host; staying in the current mode');
    this.reportedNoSignal = ev.noSignal;
  }
}
