/**
 * TEST_DEPS=auto|container|process (controller-practices.md §11.1). `auto` probes for a container
 * runtime once per worker and falls back to local processes; the probe's cost is printed once so a
 * slow fallback is noticed. testcontainers is imported lazily: a broken install cannot break the
 * process path.
 */
export type DepMode = 'container' | 'process';
export type Requested = 'auto' | 'container' | 'process';

export function requestedMode(env: NodeJS.ProcessEnv = process.env): Requested {
  const v = (env.TEST_DEPS ?? 'auto').trim().toLowerCase();
  if (v === 'auto' || v === 'container' || v === 'process') return v;
  throw new Error(`TEST_DEPS must be auto, container or process, not ${JSON.stringify(env.TEST_DEPS)}`);
}

export type Testcontainers = typeof import('testcontainers');

export interface ProbeResult {
  available: boolean;
  ms: number;
  reason?: string;
}

let probed: Promise<ProbeResult> | undefined;

/** Whether a container runtime answers; with no engine testcontainers rejects within milliseconds. */
export function probeContainerRuntime(): Promise<ProbeResult> {
  probed ??= (async () => {
    const started = performance.now();
    try {
      const tc = await loadTestcontainers();
      await tc.getContainerRuntimeClient();
      return { available: true, ms: performance.now() - started };
    } catch (err) {
      return { available: false, ms: performance.now() - started, reason: (err as Error).message.split('\n')[0] };
    }
  })();
  return probed;
}

export async function loadTestcontainers(): Promise<Testcontainers> {
  return import('testcontainers');
}

let announced = false;

/** The mode a dependency is provided in; `container` without a runtime fails fast with a clear message. */
export async function resolveMode(env: NodeJS.ProcessEnv = process.env): Promise<DepMode> {
  const requested = requestedMode(env);
  if (requested === 'process') return 'process';
  const probe = await probeContainerRuntime();
  if (probe.available) return 'container';
  if (requested === 'container')
    throw new Error(`TEST_DEPS=container but no container runtime answers (${probe.reason ?? 'unknown'}); use TEST_DEPS=auto or process`);
  if (!announced) {
    announced = true;
    console.warn(`[deps] container unavailable (${probe.reason}); using local processes (probe took ${probe.ms.toFixed(1)} ms)`);
  }
  return 'process';
}
