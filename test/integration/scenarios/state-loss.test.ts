import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { controllerEnv, once, startRun, stateDir, type RunningController } from '../harness/controller-provider.js';
import { mustOnce, scenario, useStage } from '../harness/runner.js';
import type { ApprovalRow, MessageRow } from '../harness/world.js';

/**
 * Exactly-once without local state: the state folder is a cache. A fresh folder (a new pod, a failover: each
 * replica has its own emptyDir), a truncated state.json, or a task ledger with one junk entry must not
 * re-announce an approval — checked beyond Discord's nonce window, which is set to 0 here so a duplicate post
 * would show as a second message.
 */
const stage = useStage({ seed: 'empty' });
const dirs: { path: string; remove(): void }[] = [];
const freshDir = (): string => {
  const d = stateDir('mc-fresh-');
  dirs.push(d);
  return d.path;
};

beforeAll(async () => {
  await stage.world.control('PUT', '/discord/settings', { nonceWindowMs: 0 });
});
afterAll(() => {
  for (const d of dirs) d.remove();
});

const taskless = (reason: string): Promise<ApprovalRow> =>
  stage.world.mc<ApprovalRow>('POST', '/approvals', { action_type: 'manual_override', confidence: 80, payload: { reason } });
const notices = (all: MessageRow[], id: string) => all.filter((m) => m.content.includes(`Approval ID: ${id}`));
const followUps = (all: MessageRow[], id: string) => all.filter((m) => m.content.startsWith(`✅ Approval ${id} approved`));
const fresh = async (env: Record<string, string> = {}) => {
  const r = await once(controllerEnv(stage.info, freshDir(), env));
  expect(r.code, r.stderr).toBe(0);
};

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('task-less approval notices and ledgers survive lost local state (CLI against the sandbox)', () => {
  scenario('`once` with a fresh state folder twice, then with a truncated state.json: one notice per approval', async () => {
    const { world } = stage;
    const a = await taskless('fresh state folders');
    const b = await taskless('a second one');
    await fresh();
    expect(notices(await world.messages(), a.id)).toHaveLength(1);
    await fresh();
    expect(notices(await world.messages(), a.id)).toHaveLength(1);

    const kept = freshDir();
    const r = await once(controllerEnv(stage.info, kept));
    expect(r.code, r.stderr).toBe(0);
    writeFileSync(join(kept, 'state.json'), '');
    const truncated = await once(controllerEnv(stage.info, kept, { MC_LOG_LEVEL: 'error' }));
    expect(truncated.code, truncated.stderr).toBe(0);
    expect(truncated.stderr).toMatch(/state file .*state\.json is corrupt \(empty \(truncated\) file\)/);

    const all = await world.messages();
    expect(notices(all, a.id)).toHaveLength(1);
    expect(notices(all, b.id)).toHaveLength(1);
    // the corrupt file is kept aside, not silently reset
    expect(readdirSync(kept).filter((f) => /^state\.json\.corrupt-/.test(f))).toHaveLength(1);
    expect(existsSync(join(kept, 'state.json'))).toBe(true);
  });

  scenario('`run` restarted with a fresh state folder: one notice, then one follow-up after the resolution', async () => {
    const { world } = stage;
    const a = await taskless('run restarted on a new pod');
    const env = { MC_RESYNC_SECONDS: '1' };
    let run: RunningController | null = await startRun(controllerEnv(stage.info, freshDir(), env), { waitReady: true });
    try {
      await until('the notice', async () => notices(await world.messages(), a.id).length > 0);
      await run.stop();
      run = await startRun(controllerEnv(stage.info, freshDir(), env), { waitReady: true });
      // several resyncs of the new replica, each of which would re-announce without the channel as the record
      await new Promise((r) => setTimeout(r, 3_500));
      expect(notices(await world.messages(), a.id)).toHaveLength(1);
      await world.resolveApproval(a.id, 'approved');
      await until('the follow-up', async () => followUps(await world.messages(), a.id).length > 0);
      await run.stop();
      run = await startRun(controllerEnv(stage.info, freshDir(), env), { waitReady: true });
      await new Promise((r) => setTimeout(r, 2_500));
    } finally {
      await run?.stop();
    }
    const all = await world.messages();
    expect(notices(all, a.id)).toHaveLength(1);
    expect(followUps(all, a.id)).toHaveLength(1);
  });

  scenario('a junk entry in a task ledger beside a notified approval: `once` does not re-post the notice', async () => {
    const { world } = stage;
    // the controller has run on this board before the approval exists, so no legacy-flag rule covers it
    await mustOnce(stage);
    const t = await world.createTask({ title: 'junk ledger entry', status: 'review' });
    const a = await world.createApproval(t.id, 'junk beside it');
    await mustOnce(stage);
    expect(notices(await world.messages(), a.id)).toHaveLength(1);
    const status = (await world.task(t.id)).custom_field_values?.['mc_conditions'] as { ledger: Record<string, unknown> };
    expect(Object.keys(status.ledger).length).toBeGreaterThan(0);
    await world.patchTask(t.id, { custom_field_values: { mc_conditions: { ...status, ledger: { ...status.ledger, junk: 5 } } } });
    const r = await mustOnce(stage, { MC_LOG_LEVEL: 'warn' });
    expect(notices(await world.messages(), a.id)).toHaveLength(1);
    expect(r.stderr.match(/skipped malformed mc_conditions entries: ledger\.junk/g)).toHaveLength(1);
  });
});
