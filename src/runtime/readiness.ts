/**
 * The standard readiness function: config valid, every source synced and fresher than its limit
 * (3 × its interval), and either leading or a healthy standby. The body says which role.
 */
import type { ReadinessCheck, ReadinessReport } from '../clients/probes/index.js';

export interface SourceFreshness {
  name: string;
  /** epoch ms of the last successful sync, null before the first */
  lastSuccessAt: () => number | null;
  maxAgeMs: number;
  /** why the source has not synced (yet), shown instead of a bare "not synced yet" */
  waitingFor?: () => string | undefined;
}

export interface ReadinessInputs {
  configValid: () => boolean | { ok: boolean; detail?: string };
  sources: SourceFreshness[];
  isLeader: () => boolean;
  /** For the standby detail line. */
  currentLeader?: () => string | null;
  /** informational checks that never fail readiness (e.g. degrade mode) */
  informational?: () => ReadinessCheck[];
  now?: () => number;
}

export function buildReadiness(inputs: ReadinessInputs): () => ReadinessReport {
  const now = inputs.now ?? Date.now;
  return () => {
    const checks: ReadinessCheck[] = [];
    const config = inputs.configValid();
    const configOk = typeof config === 'boolean' ? config : config.ok;
    checks.push({
      name: 'config',
      ok: configOk,
      ...(typeof config === 'object' && config.detail ? { detail: config.detail } : {}),
    });
    for (const source of inputs.sources) {
      const last = source.lastSuccessAt();
      if (last === null) {
        checks.push({ name: `sync:${source.name}`, ok: false, detail: source.waitingFor?.() ?? 'not synced yet' });
        continue;
      }
      const ageMs = now() - last;
      checks.push({
        name: `sync:${source.name}`,
        ok: ageMs <= source.maxAgeMs,
        detail: `last sync ${Math.round(ageMs / 1000)}s ago (limit ${Math.round(source.maxAgeMs / 1000)}s)`,
      });
    }
    const leading = inputs.isLeader();
    const holder = inputs.currentLeader?.() ?? null;
    // A standby that reads fine is ready: it must be a valid target for a Service and rollouts.
    checks.push({
      name: 'leader-election',
      ok: true,
      detail: leading ? 'leading' : `standby${holder ? ` (leader: ${holder})` : ''}`,
    });
    const ready = checks.every((c) => c.ok);
    checks.push(...(inputs.informational?.() ?? []));
    return { ready, checks, role: leading ? 'leader' : 'standby' };
  };
}
