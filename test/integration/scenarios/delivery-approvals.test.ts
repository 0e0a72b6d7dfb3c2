import { describe, expect } from 'vitest';
import { runToEnd } from '../harness/child.js';
import { mustOnce, scenario, useStage } from '../harness/runner.js';
import { duplicateComments, duplicateMessages } from '../harness/world.js';

/**
 * Delivery, approval notices and bootstrap through the real CLI: legacy S3, S6, S7, S8 with real
 * assertions (the visible Discord message, the task's fields and comments), one notice per approval.
 */
const stage = useStage({ seed: 'empty' });
const env = { MC_DELIVERY_BACKLOG: 'deliver', MC_PUBLIC_URL: 'http://mc.example' };
const field = (t: { custom_field_values: Record<string, unknown> | null }, k: string) => t.custom_field_values?.[k];

describe('delivery, approvals and bootstrap scenarios (CLI against the sandbox)', () => {
  scenario('S7 bootstrap is idempotent: a second run creates and updates nothing', async () => {
    const again = await runToEnd(['bootstrap', '--json'], stage.env());
    expect(again.code, again.stderr).toBe(0);
    const report = JSON.parse(again.stdout) as { created: string[]; updated: string[]; noop: string[] };
    expect(report.created).toEqual([]);
    expect(report.updated).toEqual([]);
    expect(report.noop).toEqual(expect.arrayContaining(['mc_session_key', 'mc_delivered', 'mc_output_summary', 'mc_conditions']));
  });

  scenario('S3 delivery: a done task is posted once with `Resultado:` (summary from a `summary=` comment), then marked', async () => {
    const { world } = stage;
    const t = await world.createTask({ title: 'S3 delivery', status: 'done', description: 'the description', fields: { mc_progress: 100, mc_delivered: false } });
    await world.mc('POST', `/tasks/${t.id}/comments`, { message: 'agent notes\nsummary=S3 summary from the comment line' });
    await mustOnce(stage, env);
    await mustOnce(stage, env);
    const mine = (await world.messages()).filter((m) => m.content.includes(`Task ID: ${t.id}`));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.content).toMatch(/Entrega automática/);
    expect(mine[0]!.content).toMatch(/Progresso: 100%/);
    expect(mine[0]!.content).toContain('Resultado: S3 summary from the comment line');
    const now = await world.task(t.id);
    expect(field(now, 'mc_delivered')).toBe(true);
    const ours = await world.ours(t.id);
    expect(ours).toHaveLength(1);
    expect(duplicateComments(ours)).toEqual([]);
  });

  scenario('S6 delivery prefers mc_output_summary over comments and the description', async () => {
    const { world } = stage;
    const t = await world.createTask({
      title: 'S6 output summary',
      status: 'done',
      description: 'not this',
      fields: { mc_output_summary: 'OK: output summary used', mc_delivered: false },
    });
    await world.mc('POST', `/tasks/${t.id}/comments`, { message: 'summary=not this either' });
    await mustOnce(stage, env);
    const mine = (await world.messages()).filter((m) => m.content.includes(`Task ID: ${t.id}`));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.content).toContain('Resultado: OK: output summary used');
    expect(field(await world.task(t.id), 'mc_delivered')).toBe(true);
  });

  scenario('S8 approvals notice: one 🔔 message per pending approval, task flagged, nothing re-sent', async () => {
    const { world } = stage;
    const t = await world.createTask({ title: 'S8 approval task', status: 'review' });
    const a = await world.createApproval(t.id, 'teste approval');
    await mustOnce(stage, env);
    await mustOnce(stage, env);
    const mine = (await world.messages()).filter((m) => m.content.includes(`Approval ID: ${a.id}`));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.content).toMatch(/🔔/);
    expect(mine[0]!.content).toContain(`Task ID: ${t.id}`);
    expect(mine[0]!.content).toContain('Motivo: teste approval');
    expect(mine[0]!.content).toContain(`http://mc.example/boards/${stage.info.boardId}?task=${t.id}`);
    expect(field(await world.task(t.id), 'mc_approval_notified')).toBe(true);
  });

  scenario('one notice per approval: a second approval on the same task is announced too', async () => {
    const { world } = stage;
    const t = await world.createTask({ title: 'two approvals', status: 'review' });
    const first = await world.createApproval(t.id, 'first reason');
    await mustOnce(stage, env);
    await world.resolveApproval(first.id, 'rejected');
    const second = await world.createApproval(t.id, 'second reason');
    await mustOnce(stage, env);
    await mustOnce(stage, env);
    const all = await world.messages();
    const notices = (id: string) => all.filter((m) => m.content.includes(`Approval ID: ${id}`) && /🔔/.test(m.content));
    expect(notices(first.id)).toHaveLength(1);
    expect(notices(second.id)).toHaveLength(1);
    expect(notices(second.id)[0]!.content).toContain('Motivo: second reason');
    expect(duplicateMessages(all)).toEqual([]);
  });

  // Issue 5: "A resolved approval gets one short follow-up." Under cron (`once`, a fresh process each
  // time) the store lists only pending approvals, so an announced approval resolved between two runs
  // is never read again and its follow-up never posted.
  scenario('resolved approval: exactly one follow-up, also when the controller runs as `once` under cron', async () => {
    const { world } = stage;
    const t = await world.createTask({ title: 'follow-up under cron', status: 'review' });
    const a = await world.createApproval(t.id, 'follow-up reason');
    await mustOnce(stage, env);
    await world.resolveApproval(a.id, 'approved');
    await mustOnce(stage, env);
    await mustOnce(stage, env);
    const about = (await world.messages()).filter((m) => m.content.includes(a.id));
    expect(about.filter((m) => /🔔/.test(m.content))).toHaveLength(1);
    expect(about.filter((m) => m.content.startsWith(`✅ Approval ${a.id} approved`))).toHaveLength(1);
  });

  scenario('untrusted output: @everyone pings nobody and a 3000-character summary is delivered without a 400', async () => {
    const { world } = stage;
    const long = `@everyone look ${'x'.repeat(3000)}`;
    const t = await world.createTask({ title: 'long summary', status: 'done', fields: { mc_output_summary: long } });
    await mustOnce(stage, env);
    const mine = (await world.messages()).filter((m) => m.content.includes(`Task ID: ${t.id}`));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.content.length).toBeLessThanOrEqual(2000);
    expect(mine[0]!.content).not.toMatch(/(^|[^\\`])@everyone/);
    expect(field(await world.task(t.id), 'mc_delivered')).toBe(true);
    expect((await world.stats()).discord).toMatchObject({ rejected: 0 });
  });
});
