import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MissionControlClient } from '../clients/mission-control/index.js';
import type { MissionControlApi } from '../clients/mission-control/api.js';
import { boardKey, DESIRED_FIELDS, idempotencyKey, readStatus, type ActionType, type TaskCreateAction } from '../model/index.js';
import { startSandbox, type SandboxHandle } from '../sandbox/index.js';
import { control } from '../sandbox/testing/client.js';
import { runBootstrap } from './bootstrap.js';
import { EffectsDoor } from './effects/door.js';
import { Executor } from './executor.js';
import { GlobalStateFile } from './global-state.js';
import { applyOrDescribe, oneShotExecutor, wasApplied } from './one-shot.js';
import { BoardStore } from './store.js';

/**
 * Bootstrap and `task create` as actions of the one executor, against the contract-faithful sandbox: applied
 * with the door open (counted like every action), only described while it is shut. Assertions read the
 * board over HTTP and the sandbox's request counters.
 */

let sandbox: SandboxHandle;
let stateDir: string;
let logLines: { level: number; msg: string }[];
let logger: pino.Logger;

const writes = async (): Promise<number> => (await control(sandbox.info, 'GET', '/stats')).body.mc.writes as number;
const client = () => new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, timeoutMs: 5_000, retries: 0 });

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
  stateDir = mkdtempSync(join(tmpdir(), 'mc-bootstrap-'));
});

afterAll(async () => {
  await sandbox?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

beforeEach(() => {
  logLines = [];
  logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
});

function executorBehind(door: EffectsDoor, mc: MissionControlApi = client(), counted?: [ActionType, string][]) {
  const guarded = door.missionControl(mc);
  const executor = new Executor({
    mc: guarded,
    store: new BoardStore(guarded, logger),
    handlers: {},
    globalState: new GlobalStateFile(stateDir, door),
    logger,
    ...(counted ? { onAction: (a: ActionType, outcome: string) => void counted.push([a, outcome]) } : {}),
  });
  return { mc: guarded, executor };
}

describe('bootstrap through the executor', () => {
  it('a dry run describes every field create as `dry-run: would …` and writes nothing', async () => {
    const door = EffectsDoor.closed('dry-run');
    const { mc, executor } = executorBehind(door);
    const before = await writes();
    const report = await runBootstrap({ mc, executor, logger, closed: door.closedReason }, DESIRED_FIELDS, [sandbox.info.boardId]);
    expect(report.created).toHaveLength(DESIRED_FIELDS.length);
    expect(report.entries.map((e) => [e.key, e.action, wasApplied(e)])).toEqual(DESIRED_FIELDS.map((d) => [`field/${d.fieldKey}`, 'field.create', false]));
    expect(logLines.filter((l) => l.msg.startsWith('dry-run: would field.create: '))).toHaveLength(DESIRED_FIELDS.length);
    expect(await writes()).toBe(before);
    expect(door.refused).toBe(0);
    expect(readdirSync(stateDir)).toEqual([]);
  });

  it('applies creates as counted actions; a second run plans nothing and writes nothing', async () => {
    const counted: [ActionType, string][] = [];
    const { mc, executor } = executorBehind(EffectsDoor.open(), client(), counted);
    const first = await runBootstrap({ mc, executor, logger, closed: null }, DESIRED_FIELDS, [sandbox.info.boardId]);
    expect(first.entries.every((e) => wasApplied(e) && e.outcome === 'applied' && e.externalId)).toBe(true);
    expect(counted).toEqual(DESIRED_FIELDS.map(() => ['field.create', 'applied']));
    const defs = await mc.listFieldDefinitions();
    for (const d of DESIRED_FIELDS) expect(defs.filter((x) => x.fieldKey === d.fieldKey).map((x) => x.boardIds)).toEqual([[sandbox.info.boardId]]);

    const before = await writes();
    const second = await runBootstrap({ mc, executor, logger, closed: null }, DESIRED_FIELDS, [sandbox.info.boardId]);
    expect(second).toMatchObject({ created: [], updated: [], bound: [], entries: [] });
    expect(await writes()).toBe(before);
  });

  it('a key another writer created between our list and our create is bound to (and repaired), not failed', async () => {
    const want = { ...DESIRED_FIELDS[0]!, fieldKey: 'h_raced' };
    const other = client();
    const ours = sandbox.info.boardId;
    // our list answers before the other writer's create lands: we plan a create that then collides
    let calls = 0;
    const stale: MissionControlApi = new Proxy(client(), {
      get(target, prop, receiver) {
        if (prop !== 'listFieldDefinitions') return Reflect.get(target, prop, receiver);
        return async () => {
          const listed = await target.listFieldDefinitions();
          if (calls++ === 0) await other.createFieldDefinition({ fieldKey: want.fieldKey, fieldType: want.fieldType, defaultValue: 'theirs', boardIds: [ours] });
          return listed;
        };
      },
    });
    const { mc, executor } = executorBehind(EffectsDoor.open(), stale);
    const report = await runBootstrap({ mc, executor, logger, closed: null }, [want], [ours]);
    expect(report.bound).toEqual([want.fieldKey]);
    expect(report.created).toEqual([]);
    const defs = (await other.listFieldDefinitions()).filter((d) => d.fieldKey === want.fieldKey);
    expect(defs).toHaveLength(1);
    expect(defs[0]).toMatchObject({ boardIds: [ours], defaultValue: want.defaultValue });
    expect(report.entries.map((e) => [e.action, wasApplied(e) && e.outcome])).toEqual([
      ['field.create', 'skipped'],
      ['field.update', 'applied'],
    ]);
  });
});

describe('task create through the executor', () => {
  const createAction = (title: string): TaskCreateAction => ({
    type: 'task.create',
    key: boardKey(sandbox.info.boardId),
    reconciler: 'task-create',
    reason: 'test',
    idempotencyKey: idempotencyKey('task.create', title),
    boardId: sandbox.info.boardId,
    input: { title, status: 'inbox', priority: 'high', customFieldValues: { mc_conditions: { observedHash: '', conditions: [], ledger: { 'flow:created': { s: 'done', at: 1 } } } } },
  });

  it('creates the task and hands it back through the store (its id as the externalId)', async () => {
    const door = EffectsDoor.open();
    const mc = door.missionControl(client());
    const store = new BoardStore(mc, logger);
    const executor = oneShotExecutor({ mc, logger, stateDir, door, store });
    const [entry] = await applyOrDescribe(executor, [createAction('created by action')], { closed: null, logger });
    expect(entry && wasApplied(entry) && entry.outcome).toBe('applied');
    const id = entry && wasApplied(entry) ? entry.externalId : undefined;
    const listed = (await client().listTasks(sandbox.info.boardId)).items.find((t) => t.id === id);
    expect(listed).toMatchObject({ title: 'created by action', status: 'inbox', priority: 'high' });
    expect(readStatus(listed!.fields).ledger['flow:created']).toMatchObject({ s: 'done' });
    expect(store.state(sandbox.info.boardId).tasks.get(id!)?.title).toBe('created by action');
  });

  it('behind a shut door it is only described, and a failure is the peer’s own error', async () => {
    const door = EffectsDoor.closed('dry-run');
    const mc = door.missionControl(client());
    const before = await writes();
    const [entry] = await applyOrDescribe(oneShotExecutor({ mc, logger, stateDir, door }), [createAction('never created')], { closed: door.closedReason, logger });
    expect(entry && wasApplied(entry)).toBe(false);
    expect(entry?.summary).toBe(`create "never created" in ${sandbox.info.boardId} (inbox, priority high)`);
    expect(logLines.map((l) => l.msg)).toContain('dry-run: would task.create: test');
    expect(await writes()).toBe(before);

    const open = EffectsDoor.open();
    const bad = { ...createAction('on no board'), boardId: '00000000-0000-4000-8000-000000000000' };
    const err = await applyOrDescribe(oneShotExecutor({ mc: open.missionControl(client()), logger, stateDir, door: open }), [bad], { closed: null, logger }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('MissionControlError');
  });
});
