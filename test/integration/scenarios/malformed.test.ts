import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { runToEnd } from '../harness/child.js';
import { once } from '../harness/controller-provider.js';
import { startHostileProxy, type Corrupt } from '../harness/hostile-proxy.js';
import { scenario, useStage } from '../harness/runner.js';

/**
 * Malformed payloads: a hostile Mission Control peer corrupting list rows (wrong types, missing ids,
 * bad timestamps, unknown statuses), odd gateway rows, garbage config files. No crash, one log line
 * per bad item, the healthy tasks still reconciled.
 */
const stage = useStage({ seed: 'empty' });
const logLines = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string; id?: string; kind?: string });

// Each FUZZ row gets a different kind of damage, keyed on its title's last character.
const taskDamage: Array<(r: Record<string, unknown>) => Record<string, unknown>> = [
  (r) => ({ ...r, id: undefined }),
  (r) => ({ ...r, status: 'zombie' }),
  (r) => ({ ...r, updated_at: 'yesterday-ish' }),
  (r) => ({ ...r, custom_field_values: 'not an object' }),
  (r) => ({ ...r, title: 42, created_at: null }),
];
const approvalDamage: Array<(r: Record<string, unknown>) => Record<string, unknown>> = [
  (r) => ({ ...r, status: 'maybe' }),
  (r) => ({ ...r, id: 7 }),
];

const corrupt: Corrupt = (row, kind) => {
  if (kind === 'task') {
    const m = /^FUZZ (\d)$/.exec(String(row.title));
    return m ? taskDamage[Number(m[1])]!(row) : null;
  }
  const reason = (row.payload as { reason?: string } | undefined)?.reason ?? '';
  const m = /^FUZZ (\d)$/.exec(reason);
  return m ? approvalDamage[Number(m[1])]!(row) : null;
};

describe('malformed payloads', () => {
  scenario('fuzzed task and approval rows: no crash, one log line each, the healthy tasks still reconciled', async () => {
    const { world } = stage;
    const fuzzTasks = [];
    for (let i = 0; i < taskDamage.length; i++) fuzzTasks.push(await world.createTask({ title: `FUZZ ${i}`, status: 'done', fields: { mc_output_summary: `fuzz ${i}` } }));
    for (let i = 0; i < approvalDamage.length; i++) {
      const t = await world.createTask({ title: `fuzz approval owner ${i}`, status: 'review' });
      await world.createApproval(t.id, `FUZZ ${i}`);
    }
    const healthyDone = await world.createTask({ title: 'healthy done', status: 'done', fields: { mc_output_summary: 'healthy result' } });
    const healthyReview = await world.createTask({ title: 'healthy approval', status: 'review' });
    const healthyApproval = await world.createApproval(healthyReview.id, 'healthy reason');
    const lost = await world.createTask({ title: 'healthy lost', status: 'in_progress', fields: { mc_session_key: `__fuzz_gone_${Date.now()}` } });

    const proxy = await startHostileProxy(stage.info.mcApiUrl, corrupt);
    try {
      const r = await once(stage.env({ MC_API_URL: proxy.apiUrl, MC_DELIVERY_BACKLOG: 'deliver', MC_MAX_RETRIES: '0', MC_SESSION_MISSING_GRACE_SECONDS: '0' }));
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(r.stderr).not.toMatch(/fatal|\n\s+at /);
      expect(proxy.corrupted).toBeGreaterThanOrEqual(taskDamage.length + approvalDamage.length);
      const skipped = logLines(r.stderr).filter((l) => /malformed/.test(l.msg));
      // one line per corrupted row served (a row listed twice in one pass is logged twice, never more)
      expect(skipped.length, JSON.stringify(skipped)).toBe(proxy.corrupted);
      for (const t of fuzzTasks.slice(1)) expect(skipped.filter((l) => JSON.stringify(l).includes(t.id)).length, t.title).toBeGreaterThan(0);
    } finally {
      await proxy.close();
    }
    const tasks = await world.tasks();
    const messages = await world.messages();
    expect(tasks.get(healthyDone.id)?.custom_field_values?.['mc_delivered']).toBe(true);
    expect(messages.filter((m) => m.content.includes(`Task ID: ${healthyDone.id}`))).toHaveLength(1);
    expect(messages.filter((m) => m.content.includes(`Approval ID: ${healthyApproval.id}`))).toHaveLength(1);
    expect(tasks.get(lost.id)?.status).toBe('review');
    // A row the controller could not read is never acted on.
    for (const t of fuzzTasks) expect(messages.some((m) => m.content.includes(`Task ID: ${t.id}`)), t.title).toBe(false);
  });

  scenario('odd gateway rows (odd labels, unknown-looking keys, huge transcripts) do not stop the pass', async () => {
    const { world } = stage;
    const odd = `agent:main:subagent:odd-${Date.now()}`;
    await world.session(odd, { status: 'running', label: '\u0000\u202e weird label '.repeat(20), lastActivityAt: Date.now() - 10 * 60_000, messages: [{ role: 'assistant', text: 'x'.repeat(100_000) }] });
    await world.session('not-even-an-agent-key', { status: 'done', lastActivityAt: 1 });
    const t = await world.createTask({ title: 'odd session task', status: 'in_progress', fields: { mc_session_key: odd } });
    const healthy = await world.createTask({ title: 'odd: healthy done', status: 'done', fields: { mc_output_summary: 'still delivered' } });
    const r = await stage.once({ MC_STALLED_MINUTES: '1', MC_DELIVERY_BACKLOG: 'deliver' });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect((await world.task(t.id)).status).toBe('review');
    expect((await world.task(healthy.id)).custom_field_values?.['mc_delivered']).toBe(true);
  });

  scenario('malformed config files: garbage JSON and wrong types exit 2 with one clear line, no stack, no token', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-badcfg-'));
    const cases: Array<[string, string]> = [
      ['garbage.json', '{"api_url": "http://x", oops'],
      ['types.json', JSON.stringify({ api_url: 12, board_id: ['a'], auth_token: { nested: true } })],
      ['array.json', '[1,2,3]'],
      ['empty.json', ''],
    ];
    for (const [name, text] of cases) {
      writeFileSync(join(dir, name), text);
      const r = await runToEnd(['--config', join(dir, name), 'once'], { MC_AUTH_TOKEN: stage.info.mcAuthToken, MC_STATE_DIR: join(dir, 'state'), MC_LOG_LEVEL: 'warn' }, { cwd: dir });
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toMatch(new RegExp(name.replace('.', '\\.')));
      expect(r.stderr, name).not.toMatch(/\n\s+at /);
      expect(r.stderr, name).not.toContain(stage.info.mcAuthToken);
    }
  });
});
