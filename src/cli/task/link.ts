import { readStatus, TASK_STATUSES, type TaskStatus } from '../../model/index.js';
import { linkAction } from '../../../reconcilers/session-link/index.js';
import { CliExit, EXIT } from '../exit-codes.js';
import { boardExecutor, printPlanned, write, type TaskCli } from './shared.js';

export interface LinkOptions {
  status?: string;
  json?: boolean;
  dryRun?: boolean;
}

/** `task link`: the same change the auto-link makes, through the executor; a repeated link writes nothing. */
export async function linkTask(cli: TaskCli, taskId: string, sessionKey: string, o: LinkOptions): Promise<void> {
  const status = (o.status ?? 'in_progress') as TaskStatus;
  if (!TASK_STATUSES.includes(status)) throw new CliExit(EXIT.invalid, `--status must be one of ${TASK_STATUSES.join(', ')}, got "${o.status}"`);
  if (!sessionKey.trim()) throw new CliExit(EXIT.invalid, 'the session key must not be empty');
  const { executor, task, boundFields } = await boardExecutor(cli, taskId);
  const action = linkAction({
    reconciler: 'task-link',
    task,
    status: readStatus(task.fields),
    sessionKey: sessionKey.trim(),
    targetStatus: status,
    how: 'by `mc-controller task link`',
  });
  const now = Date.now();
  if (!action) {
    if (o.json) write(JSON.stringify({ taskId, sessionKey, changed: false, dryRun: Boolean(o.dryRun) }));
    else write(`task ${taskId} is already linked to ${sessionKey}; nothing to do`);
    return;
  }
  const ctx = { task, boundFields };
  if (o.dryRun) {
    const planned = executor.describe([action], ctx, now);
    if (o.json) write(JSON.stringify({ taskId, sessionKey, changed: true, dryRun: true, diff: planned[0]?.diff ?? [] }));
    else printPlanned(planned);
    return;
  }
  const [entry] = await executor.apply([action], ctx, now);
  if (o.json) write(JSON.stringify({ taskId, sessionKey, changed: entry?.outcome === 'applied', dryRun: false, diff: entry?.diff ?? [] }));
  else write(`linked ${taskId} to ${sessionKey}${entry?.summary ? ` (${entry.summary})` : ''}`);
}
