import { describe, expect, it } from 'vitest';
import type { Action } from '../model/index.js';
import { Admission } from './admission.js';

const post = (purpose: 'delivery' | 'approvals', reconciler = purpose): Action => ({
  type: 'discord.post',
  key: 'task/b/t',
  reconciler,
  reason: 'r',
  idempotencyKey: `${purpose}-${Math.random()}`,
  purpose,
  content: 'x',
});
const patch = (reconciler: string): Action => ({
  type: 'task.patch',
  key: 'task/b/t',
  reconciler,
  reason: 'r',
  idempotencyKey: reconciler,
  boardId: 'b',
  taskId: 't',
  change: { comment: 'c' },
});

function admission(over: Partial<ConstructorParameters<typeof Admission>[0]> = {}) {
  let degraded = false;
  const a = new Admission({
    pausedWhileDegraded: ['cost'],
    degraded: () => degraded,
    deliveryMaxPerPass: 2,
    backoffMinMs: 1_000,
    backoffMaxMs: 8_000,
    ...over,
  });
  a.newPass();
  return { a, degrade: (v: boolean) => (degraded = v) };
}

describe('Admission', () => {
  it('caps delivery posts per pass and starts over on a new pass; plan mode does not spend the budget', () => {
    const { a } = admission();
    const one = () => a.admit('task/b/t', [post('delivery')], 'apply').admitted.length;
    expect(a.admit('task/b/t', [post('delivery')], 'plan').admitted).toHaveLength(1);
    expect([one(), one(), one()]).toEqual([1, 1, 0]);
    a.newPass();
    expect(one()).toBe(1);
    expect(a.admit('task/b/t', [post('approvals')], 'apply').admitted).toHaveLength(1); // only delivery is capped
  });

  it('pauses the configured concerns while degraded, and only those', () => {
    const { a, degrade } = admission();
    degrade(true);
    const r = a.admit('task/b/t', [patch('cost'), patch('watchdog')], 'apply');
    expect(r.deferred.map((x) => x.reconciler)).toEqual(['cost']);
    expect(r.admitted.map((x) => x.reconciler)).toEqual(['watchdog']);
    degrade(false);
    expect(a.admit('task/b/t', [patch('cost')], 'apply').admitted).toHaveLength(1);
  });

  it('backs off a key’s Discord posts alone after a Discord failure, growing, until a success', () => {
    const { a } = admission();
    const first = a.discordFailed('task/b/t');
    const second = a.discordFailed('task/b/t');
    expect(first.failures).toBe(1);
    expect(second.failures).toBe(2);
    expect(second.delayMs).toBeGreaterThanOrEqual(1_000);
    expect(second.delayMs).toBeLessThanOrEqual(2_000);
    const r = a.admit('task/b/t', [post('approvals'), patch('watchdog')], 'apply');
    expect(r.deferred.map((x) => x.type)).toEqual(['discord.post']);
    expect(r.admitted.map((x) => x.type)).toEqual(['task.patch']);
    expect(a.admit('task/b/other', [post('approvals')], 'apply').admitted).toHaveLength(1); // other keys unaffected
    a.discordSucceeded('task/b/t');
    expect(a.admit('task/b/t', [post('approvals')], 'apply').admitted).toHaveLength(1);
  });
});
