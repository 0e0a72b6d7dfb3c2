import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import pino from 'pino';
import { DESIRED_FIELDS } from '../src/model/index.js';
import { MissionControlClient } from '../src/clients/mission-control/index.js';
import { runBootstrap } from '../src/runtime/bootstrap.js';
import { EffectsDoor } from '../src/runtime/effects/door.js';
import { oneShotExecutor } from '../src/runtime/one-shot.js';
import type { Peers } from './peers.js';

/** Parallel requests while building a board: enough to hide the loopback round trip, few enough not to starve the sandbox. */
const BUILD_CONCURRENCY = 16;

/** The controller's custom fields, bound to the sandbox board (the product's own bootstrap, over HTTP). */
export async function bootstrapFields(peers: Peers): Promise<void> {
  const logger = pino({ level: 'silent' });
  const mc = new MissionControlClient({ apiUrl: peers.info.mcApiUrl, token: peers.info.mcAuthToken, logger });
  // field actions never touch the state file: the folder is only named, not created
  const executor = oneShotExecutor({ mc, logger, stateDir: join(tmpdir(), 'mc-bench-bootstrap'), door: EffectsDoor.open() });
  await runBootstrap({ mc, executor, logger, closed: null }, DESIRED_FIELDS, [peers.info.boardId]);
}

export interface TaskRow {
  id: string;
  title: string;
  status: string;
  custom_field_values?: Record<string, unknown> | null;
}

export async function inParallel<T, R>(items: readonly T[], fn: (item: T, i: number) => Promise<R>, concurrency = BUILD_CONCURRENCY): Promise<R[]> {
  const limit = pLimit(concurrency);
  return Promise.all(items.map((item, i) => limit(() => fn(item, i))));
}

/** Upserts a running session in the gateway simulator; `usage` makes it look like a run that already called a model. */
export async function putSession(peers: Peers, key: string, lastActivityAt: number, usage = false): Promise<void> {
  await peers.control('PUT', `/sessions/${encodeURIComponent(key)}`, {
    status: 'running',
    label: key,
    lastActivityAt,
    ...(usage ? { usage: { costUsd: 0.25, inputTokens: 12_000, outputTokens: 3_000 } } : {}),
  });
}

export async function createTask(peers: Peers, input: { title: string; status: string; fields?: Record<string, unknown> }): Promise<TaskRow> {
  return peers.mc<TaskRow>('POST', `/boards/${peers.info.boardId}/tasks`, {
    title: input.title,
    status: input.status,
    ...(input.fields ? { custom_field_values: input.fields } : {}),
  });
}

/**
 * N in-progress tasks, each linked to its own running session with recent activity, so the watchdog has
 * real work to evaluate on every task (and nothing to change).
 */
export async function buildLinkedBoard(peers: Peers, n: number, opts: { usage: boolean }): Promise<void> {
  const now = Date.now();
  const keys = Array.from({ length: n }, (_, i) => `agent:bench:subagent:steady-${i}`);
  // Distinct activity times, like real sessions (ties make the simulator sort by key with localeCompare: slow at 10k).
  await inParallel(keys, (key, i) => putSession(peers, key, now - 60_000 - i, opts.usage));
  await inParallel(keys, (key, i) => createTask(peers, { title: `Steady-state task ${i}`, status: 'in_progress', fields: { mc_session_key: key } }));
}

/** Every task of the board, paged like the controller pages (limit 200). */
export async function listAllTasks(peers: Peers): Promise<TaskRow[]> {
  const out: TaskRow[] = [];
  for (let offset = 0; ; offset += 200) {
    const page = await peers.mc<{ items: TaskRow[]; total?: number }>('GET', `/boards/${peers.info.boardId}/tasks?limit=200&offset=${offset}`);
    out.push(...page.items);
    if (page.items.length < 200) return out;
  }
}
