import { boardKey, CONDITIONS_FIELD, F, idempotencyKey, TASK_STATUSES, type ControllerStatus, type TaskCreateAction } from '../../model/index.js';
import { applyOrDescribe, oneShotExecutor, wasApplied } from '../../runtime/one-shot.js';
import { BoardStore } from '../../runtime/store.js';
import { CliExit, EXIT } from '../exit-codes.js';
import { resolveAssignee, write, type TaskCli } from './shared.js';

export interface CreateOptions {
  title: string;
  description: string;
  assignee?: string;
  priority?: string;
  estimatedCost?: string;
  json?: boolean;
  dryRun?: boolean;
}

/**
 * Creates an inbox task marked as ours (`flow:created` in the ledger, which the watchdog's `linked` scope
 * watches), with the estimate when given. Both live in bound custom fields: an unbootstrapped board is
 * refused up front instead of with upstream's 422.
 */
export async function createTask(cli: TaskCli, o: CreateOptions): Promise<void> {
  if (!o.title.trim()) throw new CliExit(EXIT.invalid, '--title must not be empty');
  const assignedAgentId = o.assignee ? resolveAssignee(cli.config.agents, o.assignee) : null;
  let estimate: number | undefined;
  if (o.estimatedCost !== undefined) {
    estimate = Number(o.estimatedCost);
    if (!Number.isFinite(estimate) || estimate < 0) throw new CliExit(EXIT.invalid, `--estimated-cost must be a non-negative number of USD, got "${o.estimatedCost}"`);
  }
  // Upstream does not check the assignee on create: the foreign key fails and it answers a bare 500.
  if (assignedAgentId !== null && !(await cli.mc.listAgents()).some((a) => a.id === assignedAgentId)) {
    throw new CliExit(EXIT.invalid, `agent not found: no agent ${assignedAgentId} in Mission Control (GET /agents)${o.assignee !== assignedAgentId ? ` for --assignee ${o.assignee}` : ''}`);
  }
  const defs = await cli.mc.listFieldDefinitions();
  const bound = new Set(defs.filter((d) => d.boardIds.includes(cli.boardId)).map((d) => d.fieldKey));
  const needed = [CONDITIONS_FIELD, ...(estimate !== undefined ? [F.estimatedCost] : [])].filter((k) => !bound.has(k));
  if (needed.length > 0)
    throw new CliExit(EXIT.invalid, `custom field(s) ${needed.join(', ')} not bound to board ${cli.boardId}: run \`mc-controller bootstrap\` first`);

  const now = Date.now();
  const status: ControllerStatus = { observedHash: '', conditions: [], ledger: { 'flow:created': { s: 'done', at: now } } };
  const input = {
    title: o.title.trim(),
    description: o.description,
    status: TASK_STATUSES[0],
    priority: o.priority ?? 'medium',
    assignedAgentId,
    customFieldValues: { [CONDITIONS_FIELD]: status, ...(estimate !== undefined ? { [F.estimatedCost]: estimate } : {}) },
  };
  // Every invocation is a new wish (two identical creates make two tasks): the key names this one.
  const action: TaskCreateAction = {
    type: 'task.create',
    key: boardKey(cli.boardId),
    reconciler: 'task-create',
    reason: 'asked for by `mc-controller task create`',
    idempotencyKey: idempotencyKey('task.create', cli.boardId, input, now),
    boardId: cli.boardId,
    input,
  };
  const store = new BoardStore(cli.mc, cli.logger);
  const executor = oneShotExecutor({ mc: cli.mc, logger: cli.logger, stateDir: cli.config.loop.stateDir, door: cli.door, store });
  const [entry] = await applyOrDescribe(executor, [action], { closed: o.dryRun ? (cli.door.closedReason ?? 'dry-run') : cli.door.closedReason, logger: cli.logger, now });
  if (!entry || !wasApplied(entry)) {
    if (o.json) write(JSON.stringify({ dryRun: true, boardId: cli.boardId, ...input }));
    else write(`(dry run) would create "${input.title}" in ${cli.boardId} (inbox, priority ${input.priority}${assignedAgentId ? `, assignee ${assignedAgentId}` : ''}${estimate !== undefined ? `, estimate $${estimate}` : ''})`);
    return;
  }
  const task = entry.externalId ? store.state(cli.boardId).tasks.get(entry.externalId) : undefined;
  if (!task) throw new CliExit(EXIT.failed, `task create: Mission Control answered without the created task (${entry.detail ?? entry.outcome})`);
  if (o.json)
    write(JSON.stringify({ id: task.id, boardId: task.boardId, title: task.title, status: task.status, priority: task.priority, assignedAgentId: task.assignedAgentId }));
  else write(task.id);
}
