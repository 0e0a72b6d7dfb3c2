/**
 * Graceful shutdown (controller-practices §2.11): the first SIGTERM/SIGINT runs an ordered list of
 * steps — stop intake, drain in-flight work, flush the ledger, release the lease — each with its own
 * budget inside one overall deadline, then exits 0. A second signal exits 1 at once (kube-rs style),
 * so an operator pressing Ctrl-C twice is never stuck behind a slow drain.
 */
import type { EventEmitter } from 'node:events';

export interface ShutdownStep {
  name: string;
  /** `signal` aborts when the step's budget or the overall deadline runs out. */
  run: (signal: AbortSignal) => unknown;
  /** Budget for this step (e.g. drain 20 s); bounded by what is left of the overall deadline. */
  timeoutMs?: number;
}

export interface ShutdownLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface ShutdownOptions {
  steps: ShutdownStep[];
  /** Overall deadline; keep it below the supervisor's grace period (pod 30 s, systemd TimeoutStopSec). */
  deadlineMs: number;
  exit?: (code: number) => void;
  logger?: ShutdownLogger;
  signals?: NodeJS.Signals[];
  /** The emitter signals arrive on (tests pass their own). */
  emitter?: Pick<EventEmitter, 'on' | 'off'>;
}

export interface StepOutcome {
  name: string;
  result: 'done' | 'failed' | 'timeout' | 'skipped';
  ms: number;
  error?: string;
}

export interface ShutdownHandle {
  readonly shuttingDown: boolean;
  /** Starts the ordered shutdown (as a first signal would); resolves with the outcomes after exit is called. */
  trigger(reason: string): Promise<StepOutcome[]>;
  /** Removes the signal handlers (tests, or a one-shot command that finished normally). */
  dispose(): void;
}

const quiet: ShutdownLogger = { info() {}, warn() {} };

class StepTimeout extends Error {}

async function runStep(step: ShutdownStep, budgetMs: number): Promise<StepOutcome> {
  const started = performance.now();
  if (budgetMs <= 0) return { name: step.name, result: 'skipped', ms: 0, error: 'overall deadline reached' };
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new StepTimeout(`exceeded ${Math.round(budgetMs)} ms`));
    }, budgetMs);
  });
  try {
    await Promise.race([Promise.resolve().then(() => step.run(controller.signal)), timeout]);
    return { name: step.name, result: 'done', ms: performance.now() - started };
  } catch (err) {
    const result = err instanceof StepTimeout ? 'timeout' : 'failed';
    return { name: step.name, result, ms: performance.now() - started, error: (err as Error)?.message ?? String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export function installShutdown(opts: ShutdownOptions): ShutdownHandle {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const log = opts.logger ?? quiet;
  const emitter = opts.emitter ?? process;
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  let running: Promise<StepOutcome[]> | undefined;

  const shutdown = async (reason: string): Promise<StepOutcome[]> => {
    log.info({ reason, deadlineMs: opts.deadlineMs }, 'Shutting down');
    const deadline = performance.now() + opts.deadlineMs;
    const outcomes: StepOutcome[] = [];
    for (const step of opts.steps) {
      const left = deadline - performance.now();
      const outcome = await runStep(step, Math.min(step.timeoutMs ?? left, left));
      outcomes.push(outcome);
      // A failed step must not stop later ones: releasing the lease matters even after a bad drain.
      if (outcome.result === 'done') log.info({ step: step.name, ms: Math.round(outcome.ms) }, 'Shutdown step done');
      else log.warn({ step: step.name, result: outcome.result, error: outcome.error }, 'Shutdown step did not complete');
    }
    dispose();
    exit(0);
    return outcomes;
  };

  const onSignal = (signal: NodeJS.Signals): void => {
    if (running) {
      log.warn({ signal }, 'Second signal: exiting immediately');
      exit(1);
      return;
    }
    running = shutdown(signal);
  };

  const dispose = (): void => {
    for (const s of signals) emitter.off(s, onSignal);
  };

  for (const s of signals) emitter.on(s, onSignal);

  return {
    get shuttingDown() {
      return running !== undefined;
    },
    trigger(reason) {
      running ??= shutdown(reason);
      return running;
    },
    dispose,
  };
}
