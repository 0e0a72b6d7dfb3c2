/**
 * `mc-controller doctor`: read-only checks of a live deployment. Every peer is only read (GETs, a gateway
 * handshake and sessions.list, a Discord channel read); nothing is created, posted or locked.
 */
import type { Config, LoadedConfig } from '../../config/index.js';
import type { MissionControlApi } from '../../clients/mission-control/api.js';
import { kubeConfig } from '../kube.js';
import { electionKubeConfig } from '../run-loop.js';
import { errorText, fail, pass, scrubber, withDeadline, type CheckResult } from './check.js';
import { discordChecks } from './discord.js';
import { gatewayChecks } from './gateway.js';
import { leaderCheck, memoryCheck, nodePressureCheck } from './host.js';
import { missionControlChecks } from './mission-control.js';

import type { DoctorReport } from './render.js';

export type { CheckResult } from './check.js';
export { renderDoctor, type DoctorReport } from './render.js';

function configCheck(loaded: LoadedConfig): CheckResult {
  const counts = new Map<string, number>();
  for (const source of Object.values(loaded.sources)) counts.set(source, (counts.get(source) ?? 0) + 1);
  const from = [...counts].map(([source, n]) => `${n} from ${source}`).join(', ');
  const files = loaded.files.length > 0 ? `; files ${loaded.files.join(', ')}` : '';
  return pass('config', `valid${from ? ` (${from})` : ''}${files}`);
}

/** Runs a group of checks under a deadline; a thrown error becomes one failed line, never a crash. */
async function guarded(name: string, ms: number, run: () => Promise<CheckResult[]>): Promise<CheckResult[]> {
  try {
    return await withDeadline(ms, name, run);
  } catch (err) {
    return [fail(name, errorText(err))];
  }
}

export async function runDoctor(loaded: LoadedConfig, mc: MissionControlApi | null): Promise<DoctorReport> {
  const config: Config = loaded.config;
  // Generous: each client has its own timeout; this only stops a check that would hang.
  const deadline = Math.max(config.mc.timeoutMs, config.gateway.requestTimeoutMs, config.discord.postDeadlineMs) * 3 + 5_000;
  const groups = await Promise.all([
    guarded('mission control', deadline, () => missionControlChecks(config, mc)),
    guarded('gateway', deadline, () => gatewayChecks(config)),
    guarded('discord', deadline, () => discordChecks(config)),
    guarded('memory signal', deadline, async () => [await memoryCheck(config), await nodePressureCheck(config, await kubeConfig())]),
    guarded('leader', deadline, async () => [await leaderCheck(config, await electionKubeConfig(config))]),
  ]);
  const scrub = scrubber([config.mc.authToken, config.gateway.token, config.discord.token]);
  const checks = [configCheck(loaded), ...groups.flat()].map((c) => ({
    ...c,
    detail: scrub(c.detail),
    ...(c.hint ? { hint: scrub(c.hint) } : {}),
  }));
  return { ok: checks.every((c) => c.ok), checks };
}
