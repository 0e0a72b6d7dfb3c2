import { globalKey, type Action, type GlobalSnapshot, type PlanResult } from '../../src/model/index.js';
import { compileAllowlist } from './allowlist.js';
import { degradeInputSchema, resourceStateSchema, type ParsedDegradeInput, type ResourceState } from './input.js';
import { enterNotice, exitNotice } from './messages.js';
import { readDegradePlannerSettings, type DegradePlannerSettings } from './settings.js';

export const DEGRADE_RECONCILER = 'degrade';
export const DEGRADE_KEY = globalKey('degrade');

/** The executor records task-less notices in the global ledger; a done entry means the notice went out. */
function ledgerDone(ledger: unknown, key: string): boolean {
  if (typeof ledger !== 'object' || ledger === null) return false;
  const entry = (ledger as Record<string, unknown>)[key];
  return typeof entry === 'object' && entry !== null && (entry as { s?: unknown }).s === 'done';
}

const base = (reason: string, idempotencyKey: string) => ({ key: DEGRADE_KEY, reconciler: DEGRADE_RECONCILER, reason, idempotencyKey });

function killTargets(input: ParsedDegradeInput, s: DegradePlannerSettings): { pid: number; command: string }[] {
  const match = compileAllowlist(s.kill.allowlist);
  return input.processes
    .filter((p) => {
      // protection is decided by the process client; pid 1 / self / parent are checked again from plain numbers
      if (p.protectedReason !== null || p.pid <= 1) return false;
      if (input.self && (p.pid === input.self.pid || p.pid === input.self.ppid)) return false;
      return match({ command: p.command, exe: p.exe }) !== null;
    })
    .map((p) => ({ pid: p.pid, command: p.command }))
    .sort((a, b) => a.pid - b.pid);
}

function planKill(input: ParsedDegradeInput, prev: ResourceState, s: DegradePlannerSettings, now: number) {
  if (input.mode !== 'degrade' || !s.kill.enabled || s.kill.allowlist.length === 0) return { action: null, requeueAfterMs: undefined };
  const sample = input.lastSample;
  const hot = sample !== null && ((sample.values.usedPct ?? 0) >= s.kill.minUsedPct || sample.severe.length > 0);
  if (!hot) return { action: null, requeueAfterMs: undefined };
  const last = prev.last_kill_at_ms ?? null;
  if (last !== null && now - last < s.kill.cooldownMs) return { action: null, requeueAfterMs: last + s.kill.cooldownMs - now };
  const targets = killTargets(input, s);
  if (targets.length === 0) return { action: null, requeueAfterMs: undefined };
  const action: Action = {
    ...base('KillAllowlisted', `degrade/kill/${input.since}/${last ?? 0}`),
    type: 'process.kill',
    targets,
    graceMs: s.kill.graceMs,
  };
  return { action, requeueAfterMs: s.kill.cooldownMs };
}

/**
 * Plans the degrade effects from the monitor's mode: the kit-compatible state, one notice per transition,
 * scale-down/restore of selected workloads and, only when enabled, one allowlisted kill per cooldown.
 */
export function planDegrade(snapshot: GlobalSnapshot): PlanResult {
  const parsed = degradeInputSchema.safeParse(snapshot.pressure);
  if (!parsed.success) return { actions: [] };
  const input = parsed.data;
  const s = readDegradePlannerSettings(snapshot.settings['degrade']);
  const now = snapshot.now;
  const degraded = input.mode === 'degrade';
  const prevParsed = resourceStateSchema.safeParse(snapshot.global['resource'] ?? {});
  const prev: ResourceState = prevParsed.success ? prevParsed.data : {};
  const actions: Action[] = [];

  const kill = planKill(input, prev, s, now);
  const killCount = (prev.kill_count_total ?? 0) + (kill.action ? 1 : 0);
  const enteredAt = degraded ? input.since : (prev.entered_at_ms ?? null);
  const stale =
    snapshot.global.degraded !== degraded || prev.mode !== input.mode || prev.entered_at_ms !== enteredAt || kill.action !== null;
  if (stale) {
    const t = input.lastTransition;
    actions.push({
      ...base(degraded ? 'DegradeModeOn' : 'DegradeModeOff', `degrade/state/${input.mode}/${input.since}/${killCount}`),
      type: 'state.write',
      patch: {
        degraded,
        resource: {
          ...prev,
          mode: input.mode,
          entered_at_ms: enteredAt,
          updated_at_ms: now,
          last_check_ms: input.lastSample?.at ?? now,
          load_pct: input.lastSample?.values.usedPct ?? null,
          reason: t && t.to === input.mode ? t.reason : null,
          conditions: t && t.to === input.mode ? t.detail.conditions : [],
          last_kill_at_ms: kill.action ? now : (prev.last_kill_at_ms ?? null),
          kill_count_total: killCount,
        },
      },
    });
  }

  const t = input.lastTransition;
  if (t && t.to === input.mode) {
    const noticeKey = `degrade/notice/${t.id}`;
    if (!input.effects.noticesDone.includes(noticeKey) && !ledgerDone(snapshot.global['ledger'], noticeKey)) {
      const values = t.detail.values;
      actions.push({
        ...base(t.reason, noticeKey),
        type: 'discord.post',
        purpose: 'resource',
        content:
          t.to === 'degrade'
            ? enterNotice(values, t.detail.conditions, s.degradePct, snapshot.settings.locale)
            : exitNotice(values, s.recoverPct, snapshot.settings.locale),
      });
    }
  }

  for (const w of input.workloads) {
    const id = `${w.kind}/${w.namespace}/${w.name}`;
    if (degraded) {
      const target = w.degradedReplicas ?? s.scale.degradedReplicas;
      // never scale UP in degrade mode; a workload already at or below the target is left alone
      if (w.replicas <= target) continue;
      actions.push({
        ...base('ScaleDownForMemory', `degrade/scale/${input.since}/${id}/${w.replicas}`),
        type: 'k8s.scale',
        kind: w.kind,
        namespace: w.namespace,
        name: w.name,
        replicas: target,
        restore: false,
      });
    } else if (w.originalReplicas !== null) {
      actions.push({
        ...base('RestoreAfterDegrade', `degrade/restore/${input.since}/${id}`),
        type: 'k8s.scale',
        kind: w.kind,
        namespace: w.namespace,
        name: w.name,
        replicas: w.originalReplicas,
        restore: true,
      });
    }
  }

  if (kill.action) actions.push(kill.action);
  return kill.requeueAfterMs !== undefined ? { actions, requeueAfterMs: kill.requeueAfterMs } : { actions };
}
