import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { currentNamespace } from '../clients/kubernetes/environment.js';
import { JsonStateFile } from '../clients/state/index.js';
import type { KubernetesScaler } from '../clients/kubernetes/scale.js';
import {
  DegradeInputCache,
  DegradeMonitor,
  degradeSettingsFromConfig,
  type HysteresisState,
  readKitResourceState,
} from '../runtime/degrade/index.js';
import type { EffectsDoor } from '../runtime/effects/door.js';
import { makeKitResourceMirror } from '../runtime/effects/kit-resource-state.js';
import { makeKillHandler } from '../runtime/effects/process-kill.js';
import type { Handlers } from '../runtime/executor.js';
import { degradePlannerSettingsFromConfig } from '../../reconcilers/degrade/index.js';
import { kubeConfig } from './kube.js';

/** The kit's resource state file; the kit kept it in the OpenClaw workspace, we default to our state folder. */
export function resourceStateFile(config: Config): string {
  return config.degrade.stateFile ?? join(config.loop.stateDir, 'resource-state.json');
}

export function degradePlannerSettings(config: Config) {
  return degradePlannerSettingsFromConfig(config.degrade);
}

export interface DegradeWiring {
  monitor: DegradeMonitor;
  inputs: DegradeInputCache;
  handlers: Handlers;
  degraded(): boolean;
  pressure(): unknown;
  /** one-shot runs: keep the hysteresis machine for the next run */
  saveMachine(): void;
}

/** Memory-pressure signal, the degrade planner's inputs and its effect handlers, from the configuration. */
const machineFile = (config: Config) => join(config.loop.stateDir, 'degrade-machine.json');

/**
 * A one-shot run (`once`/`plan` under cron) is one sample: it resumes the hysteresis machine of the previous
 * run, and the cron period is its sampling cadence, so dwell times span runs instead of needing one process.
 */
function restoreMachine(config: Config): HysteresisState | undefined {
  try {
    return JSON.parse(readFileSync(machineFile(config), 'utf8')) as HysteresisState;
  } catch {
    return undefined;
  }
}

export async function degradeWiring(
  config: Config,
  logger: Logger,
  door: EffectsDoor,
  opts: { onTransition?: (mode: string) => void; kubeConfig?: KubeConfig | undefined; oneShot?: boolean } = {},
): Promise<DegradeWiring> {
  const c = config.degrade;
  const kc = opts.kubeConfig ?? (await kubeConfig());
  // The Kubernetes client is loaded only when the node or workloads are actually read.
  const wantsScale = Boolean(c.scaleSelector || c.scaleNames.length > 0);
  const k8s =
    kc && (c.nodeName || wantsScale)
      ? {
          ...(await import('../clients/kubernetes/node-memory-pressure.js')),
          ...(await import('../clients/kubernetes/scale.js')),
          ...(await import('../runtime/effects/kubernetes-scale.js')),
        }
      : null;
  const stateFile = resourceStateFile(config);
  const restored = await readKitResourceState(stateFile).catch(() => null);
  const machine = opts.oneShot ? restoreMachine(config) : undefined;
  let inputs: DegradeInputCache | null = null;
  const settings = degradeSettingsFromConfig(c);
  if (opts.oneShot) settings.maxSampleGapMs = Number.MAX_SAFE_INTEGER;
  const monitor = new DegradeMonitor({
    settings,
    logger,
    root: c.hostRoot,
    ...(restored ? { restored } : {}),
    ...(machine ? { restoredState: machine } : {}),
    ...(c.nodeName && kc && k8s ? { readNodeMemoryPressure: k8s.makeNodeMemoryPressureReader(kc, c.nodeName) } : {}),
    onTransition: (t, status) => {
      void inputs
        ?.refresh()
        .catch((err: Error) => logger.warn({ err: err.message }, 'degrade inputs refresh failed'))
        .finally(() => opts.onTransition?.(status.mode));
    },
  });
  if (wantsScale && !kc)
    logger.warn('MC_DEGRADE_SCALE_SELECTOR/NAMES set but no Kubernetes configuration found: scale-down disabled');
  // reads (the inputs) use the scaler as is; its writes go through the door (the handler below)
  const scaler: KubernetesScaler | null = wantsScale && kc && k8s ? new k8s.KubernetesScaler(kc) : null;
  inputs = new DegradeInputCache({
    monitor,
    ...(scaler && kc
      ? {
          scale: {
            scaler,
            targets: {
              namespace: c.scaleNamespace ?? currentNamespace(kc),
              ...(c.scaleSelector ? { selector: c.scaleSelector } : {}),
              ...(c.scaleNames.length > 0 ? { names: c.scaleNames } : {}),
            },
          },
        }
      : {}),
    ...(c.kill ? { kill: { root: c.hostRoot } } : {}),
    onSkip: (problem) => logger.warn({ problem }, 'degrade: workload skipped'),
  });
  // the planner's `resource` state, mirrored into the kit-compatible file after each state write
  const handlers: Handlers = { 'state.write': makeKitResourceMirror({ door, path: stateFile }) };
  if (scaler && k8s) handlers['k8s.scale'] = k8s.makeScaleHandler(door.scaler(scaler));
  if (c.kill) handlers['process.kill'] = makeKillHandler({ root: c.hostRoot, door });
  const wiring: DegradeWiring = {
    monitor,
    inputs,
    handlers,
    degraded: () => monitor.current().mode === 'degrade',
    pressure: () => inputs.get(),
    saveMachine: () => door.stateFile(new JsonStateFile(machineFile(config), { logger })).write(monitor.machineState()),
  };
  return wiring;
}
