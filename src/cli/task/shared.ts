import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import type { Board, Task } from '../../model/index.js';
import type { MissionControlApi } from '../../clients/mission-control/api.js';
import type { EffectsDoor } from '../../runtime/effects/door.js';
import { readKitResourceState } from '../../runtime/degrade/kit-state.js';
import type { Executor, PlannedEntry } from '../../runtime/executor.js';
import { oneShotExecutor } from '../../runtime/one-shot.js';
import { BoardStore } from '../../runtime/store.js';
import { commandDoor, loadOrExit, loggerFor, missionControl, type GlobalFlags } from '../context.js';
import { resourceStateFile } from '../degrade.js';
import { CliExit, EXIT } from '../exit-codes.js';

export interface TaskCli {
  config: Config;
  logger: Logger;
  mc: MissionControlApi;
  /** closed under --dry-run / MC_DRY_RUN: `mc` and the state file refuse writes */
  door: EffectsDoor;
  boardId: string;
}

/** Config, client and the one board a task command works on (several configured boards need `--board`). */
export function taskCli(flags: GlobalFlags): TaskCli {
  const { config } = loadOrExit(flags);
  const logger = loggerFor(config);
  const door = commandDoor(config);
  const mc = missionControl(config, logger, door);
  const boards = config.mc.boardIds;
  if (boards.length > 1) throw new CliExit(EXIT.invalid, `several boards configured (${boards.join(', ')}): pick one with --board <id>`);
  return { config, logger, mc, door, boardId: boards[0]! };
}

/** Upstream has no single-task GET (405): list and match. */
export async function findTask(mc: MissionControlApi, boardId: string, taskId: string): Promise<Task> {
  const listed = await mc.listTasks(boardId);
  const task = listed.items.find((t) => t.id === taskId);
  if (!task) throw new CliExit(EXIT.invalid, `task ${taskId} not found on board ${boardId}`);
  return task;
}

/** The board's state plus an executor, so CLI writes follow the loop's merge, comment-ref and ledger rules. */
export async function boardExecutor(cli: TaskCli, taskId: string): Promise<{ executor: Executor; store: BoardStore; task: Task; boundFields: ReadonlySet<string>; board: Board | null }> {
  const store = new BoardStore(cli.mc, cli.logger);
  await store.refresh(cli.boardId);
  const state = store.state(cli.boardId);
  const task = state.tasks.get(taskId);
  if (!task) throw new CliExit(EXIT.invalid, `task ${taskId} not found on board ${cli.boardId}`);
  const executor = oneShotExecutor({ mc: cli.mc, logger: cli.logger, stateDir: cli.config.loop.stateDir, door: cli.door, store });
  return { executor, store, task, boundFields: state.boundFields, board: state.board };
}

/** Degrade mode as the kit-compatible state file says (the one `run`/`once` keep current); unreadable → not degraded. */
export async function degradedMode(config: Config): Promise<boolean> {
  return (await readKitResourceState(resourceStateFile(config)).catch(() => null))?.mode === 'degrade';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The kit's assignee rule: a UUID as is; else lowercase, `-`→`_`, exact then case-insensitive in `agents`. */
export function resolveAssignee(agents: Record<string, string>, name: string): string {
  if (UUID.test(name.trim())) return name.trim();
  const wanted = name.trim().toLowerCase().replace(/-/g, '_');
  const exact = agents[wanted];
  if (exact) return exact;
  const loose = Object.entries(agents).find(([k]) => k.toLowerCase().replace(/-/g, '_') === wanted);
  if (loose) return loose[1];
  const known = Object.keys(agents).sort();
  throw new CliExit(EXIT.invalid, `unknown assignee "${name}"; known agents: ${known.length > 0 ? known.join(', ') : '(none: add an `agents` map to the config file)'}`);
}

export function write(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function printPlanned(entries: readonly PlannedEntry[]): void {
  for (const e of entries) write(`(dry run) ${e.action} ${e.key}: ${e.reason}${e.summary ? ` — ${e.summary}` : ''}`);
}
