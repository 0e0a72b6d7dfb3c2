import { describe, expect } from 'vitest';
import { startRun } from '../harness/controller-provider.js';
import { mustOnce, scenario, useStage } from '../harness/runner.js';
import { duplicateComments } from '../harness/world.js';

/**
 * Watchdog scenarios through the real CLI (`once` / `run` as child processes) against the sandbox
 * and its gateway simulator: legacy S1, S2, S5 with the corrected semantics, anti-spam, the
 * stall cycle and a gateway restart mid-run.
 */
const stage = useStage({ seed: 'empty' });
const MIN = 60_000;
const fast = { MC_RETRY_INTERVAL_SECONDS: '0', MC_SESSION_MISSING_GRACE_SECONDS: '0' };
const field = (t: { custom_field_values: Record<string, unknown> | null }, k: string) => t.custom_field_values?.[k];

describe('watchdog scenarios (CLI against the sandbox)', () => {
  scenario('S1 recovery loop: max 1 retry → first pass counts a retry, second pass needs approval', async () => {
    const { world } = stage;
    const key = `__qa_missing_1_${Date.now()}`;
    const t = await world.createTask({ title: 'S1 recovery loop', status: 'in_progress', fields: { mc_session_key: key, mc_retry_count: 0, mc_progress: 10 } });
    await mustOnce(stage, { ...fast, MC_MAX_RETRIES: '1' });
    let now = await world.task(t.id);
    expect(now.status).toBe('in_progress');
    expect(field(now, 'mc_retry_count')).toBe(1);
    await mustOnce(stage, { ...fast, MC_MAX_RETRIES: '1' });
    now = await world.task(t.id);
    expect(now.status).toBe('review');
    expect(field(now, 'mc_last_error')).toBe('needs_approval');
    expect(field(now, 'mc_retry_count')).toBe(1);
    const ours = await world.ours(t.id);
    expect(ours).toHaveLength(2);
    expect(ours[0]).toMatch(/recovery attempt 1\/1/);
    expect(ours[1]).toMatch(/needs approval/);
  });

  scenario('S2 startup recovery: max 0 retries → review + needs_approval at once, retry count untouched', async () => {
    const { world } = stage;
    const t = await world.createTask({
      title: 'S2 startup recovery',
      status: 'in_progress',
      fields: { mc_session_key: `__qa_missing_2_${Date.now()}`, mc_retry_count: 0, mc_progress: 20 },
    });
    await mustOnce(stage, { ...fast, MC_MAX_RETRIES: '0' });
    const now = await world.task(t.id);
    expect(now.status).toBe('review');
    expect(field(now, 'mc_last_error')).toBe('needs_approval');
    expect(field(now, 'mc_retry_count')).toBe(0);
    expect(await world.ours(t.id)).toHaveLength(1);
  });

  scenario('S5 missing session key: review + missing_session_key, exactly one comment over two passes', async () => {
    const { world } = stage;
    const t = await world.createTask({ title: 'S5 no key', status: 'in_progress', fields: { mc_progress: 5 } });
    await world.backdate(t.id, { in_progress_at: new Date(Date.now() - 30 * MIN).toISOString() });
    const env = { MC_WATCHDOG_SCOPE: 'all', MC_MAX_RETRIES: '2' };
    await mustOnce(stage, env);
    await mustOnce(stage, env);
    const now = await world.task(t.id);
    expect(now.status).toBe('review');
    expect(field(now, 'mc_last_error')).toBe('missing_session_key');
    const ours = await world.ours(t.id);
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/without mc_session_key/);
  });

  scenario('stalled → unstalled → stalled again, one comment per transition', async () => {
    const { world } = stage;
    const key = `agent:main:subagent:stall-${Date.now()}`;
    await world.session(key, { status: 'running', label: 'stall', lastActivityAt: Date.now() - 5 * MIN });
    const t = await world.createTask({ title: 'stall cycle', status: 'in_progress', fields: { mc_session_key: key } });
    const env = { MC_STALLED_MINUTES: '1' };
    await mustOnce(stage, env);
    let now = await world.task(t.id);
    expect(now.status).toBe('review');
    expect(field(now, 'mc_last_error')).toBe('stalled');

    await world.session(key, { status: 'running', lastActivityAt: Date.now() });
    await mustOnce(stage, env);
    now = await world.task(t.id);
    expect(now.status).toBe('in_progress');
    expect(field(now, 'mc_last_error') ?? null).toBeNull();

    await world.session(key, { status: 'running', lastActivityAt: Date.now() - 3 * MIN });
    await mustOnce(stage, env);
    now = await world.task(t.id);
    expect(now.status).toBe('review');
    expect(field(now, 'mc_last_error')).toBe('stalled');

    await mustOnce(stage, env);
    const ours = await world.ours(t.id);
    expect(ours.map((m) => (/No activity/.test(m) ? 'stalled' : /resumed/.test(m) ? 'resumed' : m))).toEqual(['stalled', 'resumed', 'stalled']);
    expect(duplicateComments(ours)).toEqual([]);
  });

  scenario('anti-spam: ten consecutive passes add no duplicate comment or message and stop writing', async () => {
    const { world } = stage;
    const live = `agent:main:subagent:spam-${Date.now()}`;
    await world.session(live, { status: 'running', lastActivityAt: Date.now() - 10 * MIN });
    const tasks = [
      await world.createTask({ title: 'spam: lost session', status: 'in_progress', fields: { mc_session_key: `__gone_${Date.now()}` } }),
      await world.createTask({ title: 'spam: stalled', status: 'in_progress', fields: { mc_session_key: live } }),
      await world.createTask({ title: 'spam: no key', status: 'in_progress' }),
      await world.createTask({ title: 'spam: done', status: 'done', fields: { mc_output_summary: 'spam check result' } }),
      await world.createTask({ title: 'spam: approval', status: 'review' }),
    ];
    await world.createApproval(tasks[4]!.id, 'anti-spam approval');
    const env = { ...fast, MC_STALLED_MINUTES: '1', MC_WATCHDOG_SCOPE: 'all', MC_MISSING_KEY_GRACE_MINUTES: '0', MC_DELIVERY_BACKLOG: 'deliver' };
    const writes: number[] = [];
    let settledAt: { comments: number; messages: number } | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await mustOnce(stage, env);
      writes.push(Number(/(\d+) writes/.exec(r.stdout)?.[1] ?? NaN));
      if (i === 2) {
        let comments = 0;
        for (const t of tasks) comments += (await world.ours(t.id)).length;
        settledAt = { comments, messages: (await world.messages()).length };
      }
    }
    let comments = 0;
    for (const t of tasks) {
      const ours = await world.ours(t.id);
      expect(duplicateComments(ours), t.title).toEqual([]);
      comments += ours.length;
    }
    expect({ comments, messages: (await world.messages()).length }).toEqual(settledAt);
    const msgs = (await world.messages()).filter((m) => /spam/.test(m.content));
    expect(msgs.filter((m) => /spam: done/.test(m.content))).toHaveLength(1);
    expect(msgs.filter((m) => /spam: approval/.test(m.content))).toHaveLength(1);
    // The retry counter of the lost session may still advance (max 2, interval 0); after that: quiet.
    expect(writes.slice(-5)).toEqual([0, 0, 0, 0, 0]);
  });

  scenario(
    'gateway restart mid-run: no false "missing" inside the grace, a really missing session after it',
    async () => {
      const { world } = stage;
      const ts = Date.now();
      const keep = `agent:main:subagent:keep-${ts}`;
      const back = `agent:main:subagent:back-${ts}`;
      const gone = `agent:main:subagent:gone-${ts}`;
      for (const k of [keep, back, gone]) await world.session(k, { status: 'running', lastActivityAt: Date.now() });
      const tKeep = await world.createTask({ title: 'restart: keeps running', status: 'in_progress', fields: { mc_session_key: keep } });
      const tBack = await world.createTask({ title: 'restart: back after restart', status: 'in_progress', fields: { mc_session_key: back } });
      const tGone = await world.createTask({ title: 'restart: really gone', status: 'in_progress', fields: { mc_session_key: gone } });
      const run = await startRun(stage.env({ MC_SESSION_MISSING_GRACE_SECONDS: '6', MC_RESYNC_SECONDS: '2' }), { waitReady: true });
      try {
        await new Promise((r) => setTimeout(r, 1_500));
        // The restarted gateway comes back without two sessions; one of them is restored 1.5 s later.
        await world.restartGateway();
        await world.deleteSession(back);
        await world.deleteSession(gone);
        await new Promise((r) => setTimeout(r, 1_500));
        await world.session(back, { status: 'running', lastActivityAt: Date.now() });
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline && field(await world.task(tGone.id), 'mc_retry_count') !== 1) await new Promise((r) => setTimeout(r, 300));
        expect(run.running(), run.stderrTail()).toBe(true);
      } finally {
        await run.stop();
      }
      for (const t of [tKeep, tBack]) {
        const now = await world.task(t.id);
        expect(now.status, t.title).toBe('in_progress');
        expect(field(now, 'mc_retry_count') ?? 0, t.title).toBe(0);
        expect(await world.ours(t.id), t.title).toEqual([]);
      }
      const gonePost = await world.task(tGone.id);
      expect(field(gonePost, 'mc_retry_count')).toBe(1);
      expect(await world.ours(tGone.id)).toEqual([expect.stringMatching(/missing from the gateway; recovery attempt 1/)]);
    },
    60_000,
  );
});
