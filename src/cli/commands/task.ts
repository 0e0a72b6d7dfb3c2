import type { Command } from 'commander';
import type { GlobalFlags } from '../context.js';
import { createTask, type CreateOptions } from '../task/create.js';
import { linkTask, type LinkOptions } from '../task/link.js';
import { taskCli, type TaskCli } from '../task/shared.js';
import { spawnPayload, type SpawnOptions } from '../task/spawn-payload.js';
import { updateTask, type UpdateOptions } from '../task/update.js';

/** The task lifecycle by hand: create, spawn payload, link, mirror a TASK_UPDATE (docs/task-lifecycle.md). */
export function registerTask(program: Command): void {
  const task = program.command('task').description('task lifecycle: create, spawn-payload, link, update');
  const flags = (cmd: Command) => cmd.optsWithGlobals<GlobalFlags>();
  // MC_DRY_RUN=1 makes every task command a dry run too, like the loop.
  const dry = <T extends { dryRun?: boolean }>(cli: TaskCli, o: T): T => ({ ...o, dryRun: Boolean(o.dryRun || cli.config.loop.dryRun) });

  task
    .command('create')
    .description('create an inbox task marked as created through mc-controller; prints its id')
    .requiredOption('--title <title>', 'task title')
    .requiredOption('--description <text>', 'task description')
    .option('--assignee <name|uuid>', 'agent name from the config `agents` map, or a Mission Control agent UUID')
    .option('--priority <p>', 'priority', 'medium')
    .option('--estimated-cost <usd>', 'estimated cost in USD (mc_estimated_cost_usd)')
    .option('--json', 'print the created task as JSON')
    .option('--dry-run', 'show what would be created, create nothing')
    .action(async (o: CreateOptions, cmd: Command) => {
      const cli = taskCli(flags(cmd));
      await createTask(cli, dry(cli, o));
    });

  task
    .command('spawn-payload <taskId>')
    .description('print the exact sessions_spawn arguments for a task (refused with exit 3 while degraded)')
    .option('--agent <id>', 'gateway agent id (agentId)')
    .option('--timeout <seconds>', 'runTimeoutSeconds')
    .option('--force', 'print it even while degrade mode is active')
    .option('--json', 'one line of JSON')
    .action(async (taskId: string, o: SpawnOptions, cmd: Command) => spawnPayload(taskCli(flags(cmd)), taskId, o));

  task
    .command('link <taskId> <sessionKey>')
    .description('link a task to a gateway session; clears missing-key and retry state; idempotent')
    .option('--status <status>', 'status once linked (inbox|in_progress|review|done)', 'in_progress')
    .option('--json', 'print the result as JSON')
    .option('--dry-run', 'show the change, write nothing')
    .action(async (taskId: string, sessionKey: string, o: LinkOptions, cmd: Command) => {
      const cli = taskCli(flags(cmd));
      await linkTask(cli, taskId, sessionKey, dry(cli, o));
    });

  task
    .command('update')
    .description('mirror the last valid TASK_UPDATE block of agent output onto its task; idempotent')
    .option('--task-id <id>', 'the task (must match the block taskId when both are given)')
    .option('--input <file|->', 'agent output file, or - for stdin (default)')
    .option('--strict', 'exit 2 when no usable block is found')
    .option('--json', 'print the result as JSON')
    .option('--dry-run', 'show the change, write nothing')
    .action(async (o: UpdateOptions, cmd: Command) => {
      const cli = taskCli(flags(cmd));
      await updateTask(cli, dry(cli, o));
    });
}
