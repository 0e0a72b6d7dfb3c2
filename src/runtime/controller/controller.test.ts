import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MissionControlClient } from '../../clients/mission-control/index.js';
import { defaultPlannerSettings, idempotencyKey, taskKey, type Action, type TaskReconciler, type TaskSnapshot } from '../../model/index.js';
import { startSandbox, type SandboxHandle } from '../../sandbox/index.js';
import { control, mcClient } from '../../sandbox/testing/client.js';
import { Controller } from './index.js';
import { GlobalStateFile } from '../global-state.js';
import { EffectsDoor } from '../effects/door.js';

/**
 * A full pass over the demo sandbox with an in-test reconciler: the first pass writes, the next ones
 * perform no write at all (level-triggered and idempotent), measured by the controller's report and by
 * the sandbox's own request counters.
 */

let sandbox: SandboxHandle;
let dispatcher: Agent;
let mc: MissionControlClient;
let stateDir: string;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'demo' });
  dispatcher = new Agent();
  mc = new MissionControlClient({ apiUrl: sandbox.info.mcApiUrl, token: sandbox.info.mcAuthToken, dispatcher, timeoutMs: 5_000, retries: 0 });
  await mc.createFieldDefinition({ fieldKey: 'mc_conditions', fieldType: 'json', uiVisibility: 'if_set', required: false, defaultValue: null, boardIds: [sandbox.info.boardId] });
  stateDir = mkdtempSync(join(tmpdir(), 'mc-controller-'));
});

afterAll(async () => {
  await dispatcher?.close();
  await sandbox?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

/** One task.patch per in_progress task: the SessionLinked condition, a progress floor and a comment. */
const linker: TaskReconciler = {
  scope: 'task',
  name: 'test-linker',
  plan(s: TaskSnapshot) {
    if (s.task.status !== 'in_progress') return { actions: [] };
    const linked = typeof s.task.fields['mc_session_key'] === 'string';
    const action: Action = {
      type: 'task.patch',
      key: taskKey(s.boardId, s.task.id),
      reconciler: 'test-linker',
      reason: linked ? 'session linked' : 'no session linked',
      idempotencyKey: idempotencyKey(s.task.id, 'test-linker', linked),
      boardId: s.boardId,
      taskId: s.task.id,
      change: {
        conditions: [{ type: 'SessionLinked', status: linked ? 'True' : 'False', reason: linked ? 'Linked' : 'MissingKey' }],
        fields: { mc_progress: Math.max(Number(s.task.fields['mc_progress'] ?? 0), 5) },
        comment: linked ? 'session linked' : 'no session linked yet',
      },
    };
    return { actions: [action] };
  },
};

const mcWrites = async () => (await control(sandbox.info, 'GET', '/stats')).body.mc.writes as number;

function controller(over: Partial<ConstructorParameters<typeof Controller>[0]> = {}): Controller {
  return new Controller({
    boardIds: [sandbox.info.boardId],
    settings: defaultPlannerSettings(),
    reconcilers: [linker],
    mc,
    handlers: {},
    door: EffectsDoor.open(),
    globalState: new GlobalStateFile(stateDir, EffectsDoor.open()),
    logger: pino({ level: 'silent' }),
    loop: { concurrency: 2, backoffMinMs: 10, backoffMaxMs: 100, resyncMs: 60_000 },
    ...over,
  });
}

describe('Controller.pass', () => {
  it('writes on the first pass and performs zero writes on the next ones', async () => {
    const http = mcClient(sandbox.info);
    const inProgress = (await http.allTasks()).filter((t) => t.status === 'in_progress');
    expect(inProgress.length).toBeGreaterThanOrEqual(2);

    const c = controller();
    let before = await mcWrites();
    const first = await c.pass('apply');
    expect(first.failures).toEqual([]);
    expect(first.writes).toBe(inProgress.length); // one PATCH per planned task
    expect((await mcWrites()) - before).toBe(inProgress.length);
    expect(first.entries.filter((e) => 'outcome' in e && e.outcome === 'applied')).toHaveLength(inProgress.length);

    for (const t of inProgress) {
      const row = (await http.allTasks()).find((x) => x.id === t.id);
      expect(row.custom_field_values.mc_conditions.conditions.map((x: any) => x.type)).toContain('SessionLinked');
      const comments = (await http.get(`${http.board}/tasks/${t.id}/comments`)).body.items as unknown[];
      expect(comments.filter((m: any) => /session linked/.test(m.message))).toHaveLength(1);
    }

    // the same controller again, and a freshly started one (no cache), both write nothing
    for (const next of [c, controller()]) {
      before = await mcWrites();
      const again = await next.pass('apply');
      expect(again.failures).toEqual([]);
      expect(again.writes).toBe(0);
      expect((await mcWrites()) - before).toBe(0);
      expect(again.entries.every((e) => !('outcome' in e) || e.outcome === 'skipped')).toBe(true);
    }
    for (const t of inProgress) {
      const comments = (await http.get(`${http.board}/tasks/${t.id}/comments`)).body.items as unknown[];
      expect(comments.filter((m: any) => /session linked/.test(m.message))).toHaveLength(1);
    }
  });

  it('plan mode describes and never writes', async () => {
    const before = await mcWrites();
    const report = await controller().pass('plan');
    expect(report.writes).toBe(0);
    expect((await mcWrites()) - before).toBe(0);
    expect(report.keys).toBeGreaterThan(0);
  });
});

describe('a key planned again in the same pass', () => {
  it('reports what admission defers on the second plan, not only on the first', async () => {
    const http = mcClient(sandbox.info);
    const target = (await http.allTasks()).find((t) => t.status === 'in_progress')!;
    const patch = (s: TaskSnapshot, reconciler: string, reason: string, change: Extract<Action, { type: 'task.patch' }>['change']): Action => ({
      type: 'task.patch',
      key: taskKey(s.boardId, s.task.id),
      reconciler,
      reason,
      idempotencyKey: idempotencyKey(s.task.id, reconciler, reason),
      boardId: s.boardId,
      taskId: s.task.id,
      change,
    });
    // moves the task (so the key is planned again at once), and a concern paused while degraded that only
    // has something to say about the moved task
    const mover: TaskReconciler = {
      scope: 'task',
      name: 'test-mover',
      plan: (s) => ({ actions: s.task.id === target.id && s.task.status === 'in_progress' ? [patch(s, 'test-mover', 'move to review', { status: 'review' })] : [] }),
    };
    const noter: TaskReconciler = {
      scope: 'task',
      name: 'test-noter',
      plan: (s) => ({ actions: s.task.id === target.id && s.task.status === 'review' ? [patch(s, 'test-noter', 'note the review', { fields: { mc_progress: 50 } })] : [] }),
    };
    // paused in both plans of the key: one deferred entry, not two
    const waiter: TaskReconciler = {
      scope: 'task',
      name: 'test-waiter',
      plan: (s) => ({ actions: s.task.id === target.id ? [patch(s, 'test-waiter', 'wait', { fields: { mc_progress: 60 } })] : [] }),
    };
    const c = controller({ reconcilers: [mover, noter, waiter], degraded: () => true, pausedWhileDegraded: ['test-noter', 'test-waiter'] });
    const report = await c.pass('apply');
    const mine = report.entries.filter((e) => e.key === taskKey(sandbox.info.boardId, target.id));
    expect(mine.map((e) => [e.reconciler, 'outcome' in e ? e.outcome : 'planned'])).toEqual([
      ['test-mover', 'applied'],
      ['test-noter', 'deferred'],
      ['test-waiter', 'deferred'],
    ]);
    const row = (await http.allTasks()).find((t) => t.id === target.id);
    expect(row.status).toBe('review');
    expect([50, 60]).not.toContain(row.custom_field_values?.mc_progress);
  });
});
