import { z } from 'zod';
import { splitKillAllowlist } from '../../src/model/index.js';

/**
 * The degrade planner's part of PlannerSettings (`settings.degrade`). Defaults are the safe ones: no kill,
 * scale to zero only what the selector picked.
 */
export const degradePlannerSettingsSchema = z.object({
  scale: z
    .object({
      /** replicas while degraded, unless the workload's degraded-replicas annotation says otherwise */
      degradedReplicas: z.number().int().min(0).default(0),
    })
    .default({ degradedReplicas: 0 }),
  kill: z
    .object({
      /** MC_RESOURCE_MONITOR_KILL=1 */
      enabled: z.boolean().default(false),
      /** MC_RESOURCE_KILL_ALLOWLIST, already split (see parseKillAllowlist) */
      allowlist: z.array(z.string().min(1)).default([]),
      /** MC_RESOURCE_KILL_PCT: kill only at or above this used % (or on severe pressure) */
      minUsedPct: z.number().min(0).max(100).default(95),
      cooldownMs: z.number().int().min(0).default(60 * 60_000),
      graceMs: z.number().int().min(0).default(10_000),
    })
    .default({ enabled: false, allowlist: [], minUsedPct: 95, cooldownMs: 3_600_000, graceMs: 10_000 }),
  /** kit thresholds, only quoted in the notices */
  degradePct: z.number().default(90),
  recoverPct: z.number().default(85),
});
export type DegradePlannerSettings = z.output<typeof degradePlannerSettingsSchema>;

export function readDegradePlannerSettings(raw: unknown): DegradePlannerSettings {
  const parsed = degradePlannerSettingsSchema.safeParse(raw ?? {});
  // a broken degrade section must not arm the kill path: fall back to the defaults (kill off)
  return parsed.success ? parsed.data : degradePlannerSettingsSchema.parse({});
}

/** `MC_RESOURCE_KILL_ALLOWLIST`: patterns separated by commas, semicolons or newlines. */
export const parseKillAllowlist = splitKillAllowlist;

/** The config section (`config.degrade`) as the CLI loads it; only the fields the planner uses. */
export interface DegradePlannerConfigFields {
  scaleReplicas: number;
  kill: boolean;
  killAllowlist: string[];
  degradePct: number;
  recoverPct: number;
  /** MC_RESOURCE_KILL_PCT (kit default 95) */
  killPct?: number;
  killCooldownSeconds?: number;
  killGraceSeconds?: number;
}

/** What the CLI puts under `PlannerSettings.degrade`. */
export function degradePlannerSettingsFromConfig(c: DegradePlannerConfigFields): DegradePlannerSettings {
  const d = degradePlannerSettingsSchema.parse({});
  return {
    scale: { degradedReplicas: c.scaleReplicas },
    kill: {
      enabled: c.kill,
      allowlist: c.killAllowlist.flatMap((p) => parseKillAllowlist(p)),
      minUsedPct: c.killPct ?? d.kill.minUsedPct,
      cooldownMs: c.killCooldownSeconds !== undefined ? c.killCooldownSeconds * 1000 : d.kill.cooldownMs,
      graceMs: c.killGraceSeconds !== undefined ? c.killGraceSeconds * 1000 : d.kill.graceMs,
    },
    degradePct: c.degradePct,
    recoverPct: c.recoverPct,
  };
}
