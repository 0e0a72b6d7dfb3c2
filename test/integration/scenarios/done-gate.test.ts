import { describe, expect } from 'vitest';
import { runToEnd } from '../harness/child.js';
import { startRun, type Env, type RunningController } from '../harness/controller-provider.js';
import { mustOnce, scenario, useStage, type Stage } from '../harness/runner.js';
import { duplicateComments, type TaskRow, type World } from '../harness/world.js';

/**
 * Issue 12: Mission Control's default board workflow end to end, through the real CLI (`once` and `run`)
 * against the sandbox, whose board has upstream's default `require_approval_for_done: true`.
 * in_progress → review (the gate) → approved → done → delivered, with the whole `mc_conditions` checked
 * at each step; a rejected approval; a refused done (board rule switched on behind the controller's back);
 * the cost of a run that finished while its task waits in review; `mc_status` and the hidden ledger.
 */
const stage = useStage({ seed: 'empty' });
const env: Env = { MC_DELIVERY_BACKLOG: 'deliver' };
const RULE = 'board requires an approved approval for done';
/** several CLI runs per scenario, on a machine shared with other work */
const SLOW = 120_000;

interface Cond {
  type: string;
  status: string;
  reason: string;
}
const field = (t: TaskRow, k: string) => t.custom_field_values?.[k];
type Status = { observedHash: string; conditions: (Cond & { message: string })[]; ledger: Record<string, { s: string }> };
const status = (t: TaskRow): Status => (field(t, 'mc_conditions') as Status | null) ?? { observedHash: '', conditions: [], ledger: {} };
/** The whole condition list, as (type, status, reason), in a stable order. */
const conditionsOf = (t: TaskRow): Cond[] =>
  status(t)
    .conditions.map(({ type, status: s, reason }) => ({ type, status: s, reason }))
    .sort((a, b) => a.type.localeCompare(b.type));
const expected = (...c: [string, string, string][]): Cond[] => c.map(([type, s, reason]) => ({ type, status: s, reason })).sort((a, b) => a.type.localeCompare(b.type));

async function linkedTask(world: World, name: string): Promise<{ t: TaskRow; key: string }> {
  const key = `agent:main:subagent:${name}-${Date.now()}`;
  await world.session(key, { status: 'running', label: name, lastActivityAt: Date.now() });
  const t = await world.createTask({ title: `gate ${name}`, status: 'in_progress', fields: { mc_session_key: key } });
  return { t, key };
}

/** The agent's last words and the end of its run. */
async function agentReportsDone(world: World, key: string, summary: string): Promise<void> {
  await world.sessionMessage(key, 'assistant', `All done.\nTASK_UPDATE {"status":"done","progress":100,"summary":"${summary}"}`);
  await world.session(key, { status: 'done' });
}

async function until(world: World, id: string, ok: (t: TaskRow) => boolean, what: string, ms = 25_000): Promise<TaskRow> {
  const deadline = Date.now() + ms;
  let last = await world.task(id);
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; task is ${last.status} with ${JSON.stringify(field(last, 'mc_conditions'))}`);
    await new Promise((r) => setTimeout(r, 250));
    last = await world.task(id);
  }
  return last;
}

const STEPS = {
  running: expected(['SessionLinked', 'True', 'Linked'], ['Ready', 'True', 'Reconciled']),
  gated: expected(['SessionLinked', 'True', 'Linked'], ['Completed', 'True', 'SessionFinished'], ['Blocked', 'True', 'DoneAwaitingApproval'], ['Ready', 'False', 'DoneAwaitingApproval']),
  announced: expected(
    ['SessionLinked', 'True', 'Linked'],
    ['Completed', 'True', 'SessionFinished'],
    ['Blocked', 'True', 'DoneAwaitingApproval'],
    ['ApprovalNotified', 'True', 'Notified'],
    ['Ready', 'False', 'DoneAwaitingApproval'],
  ),
  delivered: expected(
    ['SessionLinked', 'True', 'Linked'],
    ['Completed', 'True', 'SessionFinished'],
    ['Blocked', 'False', 'Approved'],
    ['ApprovalNotified', 'False', 'Resolved'],
    ['Delivered', 'True', 'Posted'],
    ['Ready', 'True', 'Reconciled'],
  ),
};

/** What every step of the walk must look like, whichever command got it there. */
function checkGated(t: TaskRow): void {
  expect(t.status).toBe('review');
  expect(conditionsOf(t)).toEqual(STEPS.gated);
  expect(status(t).conditions.find((c) => c.type === 'Blocked')?.message).toContain(RULE);
  expect(field(t, 'mc_status')).toBe('Waiting for approval of done');
}
function checkDelivered(t: TaskRow): void {
  expect(t.status).toBe('done');
  expect(conditionsOf(t)).toEqual(STEPS.delivered);
  expect(field(t, 'mc_delivered')).toBe(true);
  expect(field(t, 'mc_status')).toMatch(/^Delivered to Discord \d{1,2} [A-Z][a-z]{2} \d\d:\d\d UTC$/);
}
async function checkComments(world: World, id: string): Promise<string[]> {
  const ours = await world.ours(id);
  expect(duplicateComments(ours)).toEqual([]);
  expect(ours.filter((c) => /done → done/.test(c))).toEqual([]);
  expect(ours.some((c) => c.includes(`Status: in_progress → review: ${RULE}.`))).toBe(true);
  return ours;
}

async function deliveries(world: World, id: string): Promise<number> {
  return (await world.messages()).filter((m) => m.content.includes(`Task ID: ${id}`) && /Entrega/.test(m.content)).length;
}

/** `run` as a child process for the length of `body`, then stopped; `resyncSeconds` is how often it re-lists everything. */
async function withRun(resyncSeconds: number, body: (run: RunningController) => Promise<void>): Promise<void> {
  const run = await startRun(stage.env({ ...env, MC_RESYNC_SECONDS: String(resyncSeconds) }), { waitReady: true });
  try {
    await body(run);
    expect(run.running(), run.stderrTail()).toBe(true);
  } finally {
    await run.stop();
  }
}

async function setRule(s: Stage, on: boolean): Promise<void> {
  await s.world.mc('PATCH', '', { require_approval_for_done: on });
}

describe('default board: the done gate end to end (CLI against the sandbox)', () => {
  scenario('once: in_progress → review (gate) → approved → done → delivered, the whole mc_conditions at each step', async () => {
    const { world } = stage;
    const { t, key } = await linkedTask(world, 'walk-once');
    await mustOnce(stage, env);
    let now = await world.task(t.id);
    expect(now.status).toBe('in_progress');
    expect(conditionsOf(now)).toEqual(STEPS.running);
    expect(field(now, 'mc_status')).toBe(`Running — linked to ${key}`);

    await agentReportsDone(world, key, 'walk report');
    await mustOnce(stage, env);
    now = await world.task(t.id);
    checkGated(now);
    expect(status(now).ledger).not.toHaveProperty('refused:done');

    const approval = await world.createApproval(t.id, 'sign off the walk');
    await mustOnce(stage, env);
    now = await world.task(t.id);
    expect(now.status).toBe('review');
    expect(conditionsOf(now)).toEqual(STEPS.announced);

    await world.resolveApproval(approval.id, 'approved');
    await mustOnce(stage, env);
    now = await world.task(t.id);
    checkDelivered(now);
    expect(await deliveries(world, t.id)).toBe(1);
    const ours = await checkComments(world, t.id);
    expect(ours.some((c) => c.includes(`Approval ${approval.id} approved. Status: review → done.`))).toBe(true);

    // settled: another pass writes nothing, the conditions stay as they are
    const before = JSON.stringify(field(now, 'mc_conditions'));
    await mustOnce(stage, env);
    now = await world.task(t.id);
    expect(JSON.stringify(field(now, 'mc_conditions'))).toBe(before);
    expect(await world.ours(t.id)).toHaveLength(ours.length);
    expect(await deliveries(world, t.id)).toBe(1);
  }, SLOW);

  scenario('run: the same walk, reached through streams and pushes', async () => {
    const { world } = stage;
    const { t, key } = await linkedTask(world, 'walk-run');
    await withRun(2, async () => {
      let now = await until(world, t.id, (x) => conditionsOf(x).length > 0, 'the first conditions');
      expect(conditionsOf(now)).toEqual(STEPS.running);
      await agentReportsDone(world, key, 'walk report (run)');
      // the TASK_UPDATE reply and the session's end arrive as separate pushes: wait for both to be reflected
      now = await until(
        world,
        t.id,
        (x) => x.status === 'review' && ['Blocked', 'Completed'].every((type) => conditionsOf(x).some((c) => c.type === type && c.status === 'True')),
        'review behind the gate, the run finished',
      );
      checkGated(now);
      const approval = await world.createApproval(t.id, 'sign off the run walk');
      now = await until(world, t.id, (x) => conditionsOf(x).some((c) => c.type === 'ApprovalNotified'), 'the approval notice');
      expect(conditionsOf(now)).toEqual(STEPS.announced);
      await world.resolveApproval(approval.id, 'approved');
      now = await until(world, t.id, (x) => x.status === 'done' && field(x, 'mc_delivered') === true && conditionsOf(x).some((c) => c.type === 'ApprovalNotified' && c.status === 'False'), 'done and delivered');
      checkDelivered(now);
      await checkComments(world, t.id);
      expect(await deliveries(world, t.id)).toBe(1);
    });
  }, SLOW);

  scenario('once: a rejected approval keeps the task in review and says so; a later approval still finishes it', async () => {
    const { world } = stage;
    const { t, key } = await linkedTask(world, 'rejected');
    await agentReportsDone(world, key, 'rejected report');
    await mustOnce(stage, env);
    const first = await world.createApproval(t.id, 'first look');
    await world.resolveApproval(first.id, 'rejected');
    await mustOnce(stage, env);
    let now = await world.task(t.id);
    expect(now.status).toBe('review');
    expect(conditionsOf(now)).toContainEqual({ type: 'Blocked', status: 'True', reason: 'ApprovalRejected' });
    expect(conditionsOf(now)).toContainEqual({ type: 'Ready', status: 'False', reason: 'ApprovalRejected' });
    expect(field(now, 'mc_status')).toMatch(/^Approval rejected — stays in review/);
    expect((await world.ours(t.id)).filter((c) => c.includes(`Approval ${first.id} rejected`))).toHaveLength(1);
    await mustOnce(stage, env);
    expect((await world.ours(t.id)).filter((c) => c.includes(`Approval ${first.id} rejected`))).toHaveLength(1);

    // created already approved: never pending, so only the resolved list shows it
    const second = await world.mc<{ id: string }>('POST', '/approvals', { action_type: 'task.done', confidence: 90, task_id: t.id, status: 'approved', payload: { reason: 'second look' } });
    await mustOnce(stage, env);
    now = await world.task(t.id);
    expect(now.status).toBe('done');
    expect(conditionsOf(now)).toContainEqual({ type: 'Blocked', status: 'False', reason: 'Approved' });
    expect(conditionsOf(now)).toContainEqual({ type: 'Ready', status: 'True', reason: 'Reconciled' });
    expect((await world.ours(t.id)).some((c) => c.includes(`Approval ${second.id} approved`))).toBe(true);
  }, SLOW);

  scenario('once, MC_DONE_ON_SESSION_END: a finished session waits behind the gate like a done report, and an approval finishes it', async () => {
    const { world } = stage;
    const { t, key } = await linkedTask(world, 'session-end');
    const onEnd = { ...env, MC_DONE_ON_SESSION_END: '1' };
    await world.sessionMessage(key, 'assistant', 'finished the work, no block');
    await world.session(key, { status: 'done' });
    await mustOnce(stage, onEnd);
    let now = await world.task(t.id);
    checkGated(now);
    expect((await world.ours(t.id)).some((c) => c.includes(`finished. in_progress → review: ${RULE}.`))).toBe(true);
    const approval = await world.createApproval(t.id, 'session-end sign-off');
    await world.resolveApproval(approval.id, 'approved');
    await mustOnce(stage, onEnd);
    now = await world.task(t.id);
    expect(now.status).toBe('done');
    expect(field(now, 'mc_delivered')).toBe(true);
    expect(conditionsOf(now)).toEqual(
      expected(['SessionLinked', 'True', 'Linked'], ['Completed', 'True', 'SessionFinished'], ['Blocked', 'False', 'Approved'], ['Delivered', 'True', 'Posted'], ['Ready', 'True', 'Reconciled']),
    );
  }, SLOW);

  scenario('once: a human moves a gated task to done by hand: the abnormal conditions end with the state', async () => {
    const { world } = stage;
    const { t, key } = await linkedTask(world, 'by-hand');
    await agentReportsDone(world, key, 'by-hand report');
    await mustOnce(stage, env);
    await setRule(stage, false);
    try {
      await world.patchTask(t.id, { status: 'done' });
    } finally {
      await setRule(stage, true);
    }
    await mustOnce(stage, env);
    const now = await world.task(t.id);
    expect(now.status).toBe('done');
    expect(conditionsOf(now)).toEqual(
      expected(['SessionLinked', 'True', 'Linked'], ['Completed', 'True', 'SessionFinished'], ['Blocked', 'False', 'TaskDone'], ['Delivered', 'True', 'Posted'], ['Ready', 'True', 'Reconciled']),
    );
    expect(field(now, 'mc_status')).toMatch(/^Delivered to Discord /);
  }, SLOW);

  scenario('run: the rule switched on behind the controller: the refused done goes to review in the same pass and names the rule', async () => {
    const { world } = stage;
    await setRule(stage, false);
    const { t, key } = await linkedTask(world, 'refused');
    // no resync during the test: the controller keeps the board's rules it read at start (rule off)
    try {
      await withRun(600, async () => {
        await until(world, t.id, (x) => conditionsOf(x).length > 0, 'the first conditions');
        await setRule(stage, true);
        await agentReportsDone(world, key, 'refused report');
        const now = await until(world, t.id, (x) => x.status === 'review' && conditionsOf(x).some((c) => c.type === 'Blocked'), 'review after the refusal');
        expect(conditionsOf(now)).toEqual(STEPS.gated);
        expect(status(now).ledger['refused:done']).toMatchObject({ s: 'failed', ext: RULE });
        expect(field(now, 'mc_status')).toBe('Waiting for approval of done');
        await checkComments(world, t.id);
      });
    } finally {
      await setRule(stage, true);
    }
  }, SLOW);

  scenario('once: the cost of a run that finished is final while its task waits in review, sub-cent included', async () => {
    const { world } = stage;
    const { t, key } = await linkedTask(world, 'cost');
    await world.session(key, { status: 'done', usage: { costUsd: 0.0042, inputTokens: 120, outputTokens: 30 } });
    // the gateway's usage cache answers "refreshing" once after a change; the next read is fresh
    await mustOnce(stage, env);
    await mustOnce(stage, env);
    const now = await world.task(t.id);
    expect(now.status).toBe('review');
    expect(field(now, 'mc_actual_cost_usd')).toBeCloseTo(0.0042, 6);
    expect((await world.ours(t.id)).filter((c) => /cost: final \$0\.0042/.test(c))).toHaveLength(1);
  }, SLOW);

  scenario('run: the cost of a finished run is recorded without anyone moving the task', async () => {
    const { world } = stage;
    const { t, key } = await linkedTask(world, 'cost-run');
    await withRun(2, async () => {
      await world.session(key, { status: 'done', usage: { costUsd: 0.0031, inputTokens: 90, outputTokens: 20 } });
      const now = await until(world, t.id, (x) => Number(field(x, 'mc_actual_cost_usd')) > 0, 'the final cost');
      expect(now.status).toBe('review');
      expect(field(now, 'mc_actual_cost_usd')).toBeCloseTo(0.0031, 6);
    });
  }, SLOW);

  scenario('bootstrap keeps the ledger off the card and the readable line on it, repairing drift', async () => {
    const { world } = stage;
    type Def = { id: string; field_key: string; ui_visibility: string };
    const org = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${world.info.mcApiUrl}/organizations/me/custom-fields${path}`, {
        method,
        headers: { authorization: `Bearer ${world.info.mcAuthToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      expect(res.ok, await res.clone().text()).toBe(true);
      return (await res.json()) as T;
    };
    const defs = () => org<Def[]>('GET', '');
    const byKey = async (k: string) => (await defs()).find((d) => d.field_key === k)!;
    expect((await byKey('mc_conditions')).ui_visibility).toBe('hidden');
    expect((await byKey('mc_status')).ui_visibility).toBe('always');
    for (const [k, v] of [['mc_conditions', 'if_set'], ['mc_status', 'hidden']] as const)
      await org('PATCH', `/${(await byKey(k)).id}`, { ui_visibility: v });
    const again = await runToEnd(['bootstrap', '--json'], stage.env());
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as { updated: string[] }).updated.sort()).toEqual(['mc_conditions', 'mc_status']);
    expect((await byKey('mc_conditions')).ui_visibility).toBe('hidden');
    expect((await byKey('mc_status')).ui_visibility).toBe('always');
  }, SLOW);
});
