import { readFile } from 'node:fs/promises';
import { readStatus } from '../../model/index.js';
import { isMeaningful, lastTaskUpdate, mirror } from '../../../reconcilers/task-update/index.js';
import { CliExit, EXIT } from '../exit-codes.js';
import { boardExecutor, printPlanned, write, type TaskCli } from './shared.js';

export interface UpdateOptions {
  taskId?: string;
  input?: string;
  strict?: boolean;
  json?: boolean;
  dryRun?: boolean;
}

async function readInput(path: string | undefined): Promise<string> {
  if (path && path !== '-') {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      throw new CliExit(EXIT.invalid, `cannot read --input ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (process.stdin.isTTY) throw new CliExit(EXIT.invalid, 'no input: pipe the agent output on stdin or pass --input <file>');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `task update`: mirrors the last valid TASK_UPDATE block of the input. Unlike the kit, empty or garbage
 * input changes nothing (it used to reset progress to 0); `--strict` makes that an error.
 */
export async function updateTask(cli: TaskCli, o: UpdateOptions): Promise<void> {
  const text = await readInput(o.input);
  const found = lastTaskUpdate(text);
  if (!found || !isMeaningful(found.update)) {
    const why = found ? 'the TASK_UPDATE block says nothing (no status, progress, summary, error or cost)' : 'no TASK_UPDATE block found';
    if (o.strict) throw new CliExit(EXIT.invalid, why);
    if (o.json) write(JSON.stringify({ taskId: o.taskId ?? null, changed: false, reason: why }));
    else write(`${why}; nothing changed`);
    return;
  }
  const u = found.update;
  if (o.taskId && u.taskId && u.taskId !== o.taskId) throw new CliExit(EXIT.invalid, `taskId mismatch: the block names ${u.taskId}, --task-id is ${o.taskId}`);
  const taskId = o.taskId ?? u.taskId;
  if (!taskId) throw new CliExit(EXIT.invalid, 'the block names no taskId: pass --task-id <id>');

  const { executor, task, boundFields, board } = await boardExecutor(cli, taskId);
  const now = Date.now();
  // The done gate needs approved approvals too; the board refresh lists pending ones only.
  const approvals = (await cli.mc.listApprovals(cli.boardId)).items.filter((a) => a.taskId === taskId || a.taskIds.includes(taskId));
  const actions = mirror({ task, status: readStatus(task.fields), board, approvals, now, source: 'the CLI (`mc-controller task update`)' }, [u]);
  if (actions.length === 0) {
    if (o.json) write(JSON.stringify({ taskId, changed: false, reason: 'already mirrored' }));
    else write(`this TASK_UPDATE was already mirrored on ${taskId}; nothing changed`);
    return;
  }
  const ctx = { task, boundFields };
  if (o.dryRun) {
    const planned = executor.describe(actions, ctx, now);
    if (o.json) write(JSON.stringify({ taskId, changed: true, dryRun: true, update: u, diff: planned[0]?.diff ?? [] }));
    else printPlanned(planned);
    return;
  }
  const [entry] = await executor.apply(actions, ctx, now);
  if (o.json) write(JSON.stringify({ taskId, changed: entry?.outcome === 'applied', dryRun: false, update: u, diff: entry?.diff ?? [] }));
  else write(`mirrored TASK_UPDATE on ${taskId}${entry?.summary ? ` (${entry.summary})` : ''}`);
}
