import { readStatus, TASK_STATUSES, type TaskStatus } from '../../model/index.js';
import { linkAction } from '../../../reconcilers/session-link/index.js';
import { CliExit, EXIT } from '../exit-codes.js';
import { gatewayClient } from '../gateway.js';
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
  await warnUnknownSession(cli, sessionKey.trim());
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

/**
 * A key the gateway does not list is most often a typo or a session on another gateway: say so, but still link
 * (a session may be linked before it starts, and the watchdog reports it missing after its grace period).
 */
async function warnUnknownSession(cli: TaskCli, sessionKey: string): Promise<void> {
  if (!cli.config.gateway.url || !cli.config.gateway.token) return;
  const client = gatewayClient(cli.config, { reconnect: false, maxStartupRetries: 0 });
  try {
    await client.connect();
    const { sessions } = await client.listSessions();
    if (!sessions.some((s) => s.key === sessionKey))
      process.stderr.write(
        `mc-controller: warning: the gateway (${cli.config.gateway.url}) does not know session ${sessionKey}; linking anyway, check the key (the watchdog reports a missing session after MC_SESSION_MISSING_GRACE_SECONDS)\n`,
      );
  } catch (err) {
    process.stderr.write(`mc-controller: warning: could not ask the gateway about ${sessionKey}: ${(err as Error).message}\n`);
  } finally {
    await client.close().catch(() => undefined);
  }
}
