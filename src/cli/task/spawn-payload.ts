import type { Task } from '../../model/index.js';
import { CliExit, EXIT } from '../exit-codes.js';
import { resourceStateFile } from '../degrade.js';
import { degradedMode, findTask, write, type TaskCli } from './shared.js';

export interface SpawnOptions {
  agent?: string;
  timeout?: string;
  force?: boolean;
  json?: boolean;
}

/** The `sessions_spawn` arguments (openclaw-gateway.md §13): `task`, not the kit's `message`. */
export interface SpawnArgs {
  task: string;
  label: string;
  agentId?: string;
  runTimeoutSeconds?: number;
  mode: 'run';
}

/** The prompt: the work, the line that names the task (auto-link), and the reporting contract with the real id. */
export function spawnText(task: Pick<Task, 'id' | 'title' | 'description'>): string {
  const example = JSON.stringify({ taskId: task.id, status: 'in_progress', progress: 50, summary: 'short text', error: null });
  return [
    `Mission Control task: ${task.title}`,
    '',
    task.description?.trim() || '(no description)',
    '',
    `MC Task: ${task.id}`,
    '',
    'Report progress to Mission Control: after each step, and once when you finish, end your reply with ONE line',
    `TASK_UPDATE ${example}`,
    'where status is in_progress, done, failed, blocked or awaiting_human; progress is 0-100; summary is a short',
    'result; error is null unless something failed; optional: "cost" (USD) and "artifacts" (a list of paths or URLs).',
    'Your final reply must carry status done (with the summary) or failed (with the error).',
  ].join('\n');
}

export function spawnArgs(task: Pick<Task, 'id' | 'title' | 'description'>, o: Pick<SpawnOptions, 'agent'> & { timeoutSeconds?: number }): SpawnArgs {
  return {
    task: spawnText(task),
    label: task.id,
    ...(o.agent ? { agentId: o.agent } : {}),
    ...(o.timeoutSeconds !== undefined ? { runTimeoutSeconds: o.timeoutSeconds } : {}),
    mode: 'run',
  };
}

export async function spawnPayload(cli: TaskCli, taskId: string, o: SpawnOptions): Promise<void> {
  let timeoutSeconds: number | undefined;
  if (o.timeout !== undefined) {
    timeoutSeconds = Number(o.timeout);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds <= 0) throw new CliExit(EXIT.invalid, `--timeout must be a positive whole number of seconds, got "${o.timeout}"`);
  }
  if (!o.force && (await degradedMode(cli.config)))
    throw new CliExit(
      EXIT.attention,
      `degrade mode is active (${resourceStateFile(cli.config)} says mode=degrade): not spawning new work while memory is short; wait for normal mode or pass --force`,
    );
  const task = await findTask(cli.mc, cli.boardId, taskId);
  const args = spawnArgs(task, { ...(o.agent ? { agent: o.agent } : {}), ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) });
  write(o.json ? JSON.stringify(args) : JSON.stringify(args, null, 2));
}
