import { setTimeout as delay } from 'node:timers/promises';

/** Resolves after `ms` or as soon as `signal` aborts (never rejects). */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // aborted: the caller checks its own stop flag
  }
}
