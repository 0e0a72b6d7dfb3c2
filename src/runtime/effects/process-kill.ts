import { setTimeout as sleep } from 'node:timers/promises';
import type { KillAction } from '../../model/index.js';
import {
  protectedReason,
  readProcess,
  redactCommand,
  selfIdentity,
  type SelfIdentity,
} from '../../clients/process/index.js';
import type { EffectsDoor } from './door.js';
import type { EffectHandler } from './types.js';

export interface KillHandlerOptions {
  /** sends the signals: refuses in dry-run, `plan` and on standbys */
  door: Pick<EffectsDoor, 'signal'>;
  /** MC_HOST_ROOT: where /proc is read for the re-checks (default `/`) */
  root?: string;
  self?: SelfIdentity;
  /** how often survivors are looked at during the grace period */
  pollMs?: number;
}

type Verdict = 'ok' | 'gone' | 'changed' | `protected:${string}`;

/**
 * `process.kill`: SIGTERM the allowlisted targets, wait the grace period, SIGKILL survivors. Every target is
 * re-read right before each signal: a pid whose command line changed is a reused pid and is left alone, and
 * pid 1, this process, its parent and anything gateway-like are refused even if the action names them.
 * Never throws for a kill that did not happen — a retry would only repeat it; the outcome says what came of it.
 */
export function makeKillHandler(opts: KillHandlerOptions): EffectHandler<KillAction> {
  const root = opts.root ?? '/';
  const self = opts.self ?? selfIdentity();
  const pollMs = opts.pollMs ?? 100;

  const check = async (pid: number, command: string): Promise<Verdict> => {
    const p = await readProcess(pid, root);
    if (!p || p.zombie) return 'gone';
    // the planner saw the redacted command line, so compare like with like
    if (redactCommand(p.argv) !== command) return 'changed';
    const why = protectedReason(p, self);
    return why ? `protected:${why}` : 'ok';
  };

  return async (action, ctx) => {
    const report: { pid: number; outcome: string }[] = [];
    const termed: KillAction['targets'] = [];
    for (const t of action.targets) {
      const v = await check(t.pid, t.command);
      if (v !== 'ok') {
        report.push({ pid: t.pid, outcome: v });
        continue;
      }
      const r = opts.door.signal(t.pid, 'SIGTERM');
      if (r === 'sent') termed.push(t);
      else report.push({ pid: t.pid, outcome: r });
    }

    const deadline = Date.now() + action.graceMs;
    let alive = termed;
    while (alive.length > 0) {
      const still = [];
      for (const t of alive) if ((await check(t.pid, t.command)) !== 'gone') still.push(t);
      alive = still;
      if (alive.length === 0 || Date.now() >= deadline || ctx.signal?.aborted) break;
      await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    }
    const exited = termed.filter((t) => !alive.includes(t));
    for (const t of exited) report.push({ pid: t.pid, outcome: 'terminated' });

    let killed = 0;
    for (const t of alive) {
      const v = await check(t.pid, t.command);
      if (v !== 'ok') {
        report.push({ pid: t.pid, outcome: v === 'gone' ? 'terminated' : v });
        continue;
      }
      const r = opts.door.signal(t.pid, 'SIGKILL');
      report.push({ pid: t.pid, outcome: r === 'sent' ? 'killed' : r });
      if (r === 'sent') killed++;
    }

    const detail = report.map((r) => `${r.pid}:${r.outcome}`).join(' ');
    // each target by its (redacted) command line too: the log says what was killed, not only a pid
    const commands = new Map(action.targets.map((t) => [t.pid, t.command]));
    const processes = report.map((r) => ({ ...r, command: commands.get(r.pid) ?? null }));
    ctx.logger.warn({ reconciler: action.reconciler, result: detail, processes }, 'kill allowlist applied');
    if (termed.length === 0) return { outcome: action.targets.length > 0 && report.some((r) => r.outcome.endsWith('denied')) ? 'failed' : 'skipped', detail };
    return { outcome: 'applied', detail: killed > 0 ? `${detail} (SIGKILL after ${action.graceMs} ms)` : detail };
  };
}
