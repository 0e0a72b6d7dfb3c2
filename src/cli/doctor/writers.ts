/**
 * "Is this board written by one controller?" Every controller comment ends with `(ref:<key>)` and one controller
 * looks for that reference before writing, so it never writes the same comment twice. The same reference twice on
 * one task means a second controller acts on the board — typically one started elsewhere with its own state
 * folder and lock (docs/operations.md "Two controllers on one board").
 */
import type { MissionControlApi } from '../../clients/mission-control/api.js';
import type { Board } from '../../model/index.js';
import { pass, warn, type CheckResult } from './check.js';

/** recently updated tasks looked at per board: bounded reads, and duplicates show on fresh work first */
export const WRITER_SCAN_TASKS = 25;
const REF = /\((ref:[0-9a-f]+)\)\s*$/;

export async function singleWriterCheck(mc: MissionControlApi, boards: readonly Board[]): Promise<CheckResult> {
  const findings: string[] = [];
  let scanned = 0;
  for (const board of boards) {
    const recent = [...(await mc.listTasks(board.id)).items].sort((a, b) => b.updatedAt - a.updatedAt).slice(0, WRITER_SCAN_TASKS);
    for (const task of recent) {
      scanned++;
      const seen = new Map<string, number>();
      for (const c of (await mc.listComments(board.id, task.id)).items) {
        const ref = REF.exec(c.message)?.[1];
        if (ref) seen.set(ref, (seen.get(ref) ?? 0) + 1);
      }
      for (const [ref, n] of seen) if (n > 1) findings.push(`task ${task.id} on board ${board.name || board.id} carries (${ref}) ${n} times`);
    }
  }
  if (findings.length === 0) return pass('single writer', `no repeated controller comment on the ${scanned} most recently updated task(s)`);
  return warn(
    'single writer',
    `two controllers appear to act on one board: ${findings.slice(0, 5).join('; ')}${findings.length > 5 ? `; ${findings.length - 5} more` : ''}`,
    'run one controller per board: stop the other `run` (its lock lives in its own MC_STATE_DIR), or give every instance the same MC_STATE_DIR / MC_LOCK_FILE, or use MC_LEADER_ELECTION=lease',
  );
}
