import { describe, expect } from 'vitest';
import { startRun } from '../harness/controller-provider.js';
import { mustOnce, scenario, useStage, type Stage } from '../harness/runner.js';
import { duplicateComments, duplicateMessages, type TaskRow, type World } from '../harness/world.js';

/**
 * Fault injection through the sandbox's control API while `mc-controller run` works: Mission Control
 * answering 5xx/429/timeouts 20 % of the time, Mission Control applying a write and then losing the answer
 * (connection reset after commit), and Discord 429 storms. The board converges and
 * nothing visible is duplicated.
 */
const stage = useStage({ seed: 'empty' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const field = (t: TaskRow, k: string) => t.custom_field_values?.[k];

async function seedWork(world: World, tag: string) {
  const done: TaskRow[] = [];
  for (let i = 0; i < 5; i++) done.push(await world.createTask({ title: `${tag} done ${i}`, status: 'done', fields: { mc_output_summary: `${tag} result ${i}` } }));
  const review: TaskRow[] = [];
  const approvals: string[] = [];
  for (let i = 0; i < 3; i++) {
    const t = await world.createTask({ title: `${tag} approval ${i}`, status: 'review' });
    review.push(t);
    approvals.push((await world.createApproval(t.id, `${tag} reason ${i}`)).id);
  }
  const lost: TaskRow[] = [];
  for (let i = 0; i < 2; i++)
    lost.push(await world.createTask({ title: `${tag} lost ${i}`, status: 'in_progress', fields: { mc_session_key: `__${tag}_gone_${i}_${Date.now()}` } }));
  return { done, review, approvals, lost };
}

/** Every delivery and notice exactly once, every lost task in review with one comment, no duplicates anywhere. */
async function assertConverged(stage: Stage, work: Awaited<ReturnType<typeof seedWork>>) {
  const { world } = stage;
  const tasks = await world.tasks();
  const messages = await world.messages();
  for (const t of work.done) {
    expect(field(tasks.get(t.id)!, 'mc_delivered'), t.title).toBe(true);
    expect(messages.filter((m) => m.content.includes(`Task ID: ${t.id}`) && /Resultado:/.test(m.content)), t.title).toHaveLength(1);
  }
  for (const id of work.approvals) expect(messages.filter((m) => m.content.includes(`Approval ID: ${id}`)), id).toHaveLength(1);
  for (const t of work.lost) {
    expect(tasks.get(t.id)!.status, t.title).toBe('review');
    expect(await world.ours(t.id), t.title).toHaveLength(1);
  }
  for (const t of [...work.done, ...work.review, ...work.lost]) expect(duplicateComments(await world.ours(t.id)), t.title).toEqual([]);
  expect(duplicateMessages(messages)).toEqual([]);
}

async function runUnderFault(stage: Stage, faults: Record<string, unknown>, ms: number, extra: Record<string, string> = {}) {
  const run = await startRun(
    stage.env({ MC_DELIVERY_BACKLOG: 'deliver', MC_MAX_RETRIES: '0', MC_SESSION_MISSING_GRACE_SECONDS: '0', MC_RESYNC_SECONDS: '1', MC_BACKOFF_MIN_MS: '200', MC_BACKOFF_MAX_MS: '1000', ...extra }),
    { waitReady: true },
  );
  try {
    await stage.world.faults(faults);
    await sleep(ms);
  } finally {
    await stage.world.faults({});
    await run.stop();
  }
  return (await stage.world.stats()) as unknown as { mc: { faults: number }; discord: { rateLimited: number } };
}

describe('fault injection (run against the sandbox)', () => {
  const mcFaults: [string, string, Record<string, unknown>, Record<string, string>][] = [
    [
      'Mission Control fails 20 % of requests (500/502/503/429/timeouts): the board converges, nothing duplicated',
      'mcfault',
      { errorRate: 0.2, kinds: ['500', '502', '503', '429', 'stall'], stallMs: 2_500 },
      { MC_HTTP_TIMEOUT_MS: '1500' },
    ],
    [
      'Mission Control applies 25 % of requests and then resets the connection (answer lost after commit): nothing duplicated',
      'lostanswer',
      { errorRate: 0.25, kinds: ['reset-after-commit'] },
      {},
    ],
  ];
  for (const [name, tag, mc, extra] of mcFaults) {
    scenario(
      name,
      async () => {
        const work = await seedWork(stage.world, tag);
        const stats = await runUnderFault(stage, { mc }, 14_000, extra);
        expect(stats.mc.faults).toBeGreaterThan(0);
        await assertConverged(stage, work);
        const after = await mustOnce(stage, { MC_DELIVERY_BACKLOG: 'deliver', MC_MAX_RETRIES: '0', MC_SESSION_MISSING_GRACE_SECONDS: '0' });
        expect(after.stdout).toMatch(/ 0 writes/);
        await assertConverged(stage, work);
      },
      60_000,
    );
  }

  scenario(
    'Discord 429 storm (every 2nd post rate limited): every delivery and notice lands exactly once',
    async () => {
      const work = await seedWork(stage.world, 'ratelimit');
      const stats = await runUnderFault(stage, { discord: { rateLimitEvery: 2, retryAfterSeconds: 1 } }, 12_000);
      expect(stats.discord.rateLimited).toBeGreaterThan(0);
      await assertConverged(stage, work);
    },
    60_000,
  );
});
