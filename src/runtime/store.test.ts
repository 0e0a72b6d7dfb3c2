import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test/support/logs.js';
import { MissionControlClient } from '../clients/mission-control/index.js';
import { readStatus } from '../model/index.js';
import { startSandbox, type SandboxHandle } from '../sandbox/index.js';
import { BoardStore } from './store.js';

/** A board row whose mc_conditions carries one junk ledger entry: logged once, the good entries kept. */

let sandbox: SandboxHandle;
let dispatcher: Agent;
let mc: MissionControlClient;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
  dispatcher = new Agent();
  mc = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, dispatcher, timeoutMs: 5_000, retries: 0 });
  await mc.createFieldDefinition({ fieldKey: 'mc_conditions', fieldType: 'json', uiVisibility: 'if_set', required: false, defaultValue: null, boardIds: [sandbox.info.boardId] });
});

afterAll(async () => {
  await dispatcher?.close();
  await sandbox?.close();
});


describe('BoardStore and a malformed ledger entry', () => {
  it('keeps the good entries and logs the junk one once per change of the row', async () => {
    const boardId = sandbox.info.boardId;
    const notice = { s: 'done', at: 1_700_000_000_000, ext: '123' };
    const task = await mc.createTask(boardId, { title: 'junk ledger', status: 'inbox' });
    await mc.updateTask(boardId, task.id, { customFieldValues: { mc_conditions: { observedHash: 'h', conditions: [], ledger: { 'approval-notice-x': notice, junk: 5 } } } });
    const { logger, lines } = capturingLogger('warn');
    const store = new BoardStore(mc, logger);
    await store.refresh(boardId);
    await store.refresh(boardId);
    await new Promise((r) => setImmediate(r));

    expect(readStatus(store.state(boardId).tasks.get(task.id)!.fields).ledger).toEqual({ 'approval-notice-x': notice });
    const malformed = lines.filter((l) => String(l['msg']).includes('malformed mc_conditions'));
    expect(malformed).toHaveLength(1);
    expect(malformed[0]).toMatchObject({ taskId: task.id, dropped: ['ledger.junk'] });
  });
});

describe('BoardStore.upsertTask', () => {
  it('says whether a row is news: newer than the store had, not the echo of a write it already holds', async () => {
    const boardId = sandbox.info.boardId;
    const store = new BoardStore(mc, capturingLogger('warn').logger);
    const created = await mc.createTask(boardId, { title: 'echo', status: 'inbox' });
    expect(store.upsertTask(created)).toBe(true);
    await new Promise((r) => setTimeout(r, 5)); // a later write, a later updated_at
    const written = await mc.updateTask(boardId, created.id, { status: 'in_progress' });
    expect(store.upsertTask(written)).toBe(true);
    // the stream's copy of the same write, and an older row replayed: the store keeps its row
    expect(store.upsertTask({ ...written })).toBe(false);
    expect(store.upsertTask(created)).toBe(false);
    expect(store.state(boardId).tasks.get(created.id)?.status).toBe('in_progress');
  });
});
