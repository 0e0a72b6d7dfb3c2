import { describe, expect, it } from 'vitest';
import { defaultPlannerSettings, type Approval, type DiscordPostAction, type GlobalSnapshot, type LedgerEntry, type Task } from '../../src/model/index.js';
import { task } from '../../test/support/fixtures.js';
import { followUpKey, noticeKey } from './keys.js';
import { AWAITING_KEY, planUnlinkedApprovals, UNLINKED_KEY, unlinkedWants } from './unlinked.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');

function approval(over: Partial<Approval> = {}): Approval {
  return {
    id: 'ap-1',
    boardId: 'b1',
    actionType: 'manual_override',
    taskId: null,
    taskIds: [],
    taskTitles: [],
    payload: { reason: 'rotate the @everyone **keys**' },
    confidence: 80,
    status: 'pending',
    agentId: null,
    createdAt: NOW - 60_000,
    resolvedAt: null,
    ...over,
  };
}

function snapshot(
  approvals: Approval[],
  ledger: Record<string, LedgerEntry> = {},
  posted?: Record<string, string>,
  awaiting?: string[],
  tasks: Task[] = [task({ id: 't1' })],
): GlobalSnapshot {
  return {
    ...(posted ? { posted: new Map(Object.entries(posted)) } : {}),
    now: NOW,
    settings: { ...defaultPlannerSettings(), publicUrl: 'http://mc.local' },
    boards: [{ boardId: 'b1', board: null, tasks, approvals, fieldDefs: [] }],
    global: { degraded: false, firstRunAt: {}, ledger, ...(awaiting ? { [AWAITING_KEY]: awaiting } : {}) },
  };
}

const posts = (r: ReturnType<typeof planUnlinkedApprovals>) => r.actions.filter((a): a is DiscordPostAction => a.type === 'discord.post');
const writes = (r: ReturnType<typeof planUnlinkedApprovals>) => r.actions.filter((a) => a.type === 'state.write');

describe('approvals linked to no task', () => {
  it('announces each pending one once, on the global key, escaped, with a board link', () => {
    const r = posts(planUnlinkedApprovals(snapshot([approval(), approval({ id: 'ap-2' })])));
    expect(r.map((a) => a.idempotencyKey)).toEqual([noticeKey('ap-1'), noticeKey('ap-2')]);
    expect(r[0]).toMatchObject({ key: UNLINKED_KEY, purpose: 'approvals' });
    expect(r[0]!.task).toBeUndefined(); // the global ledger owns it
    expect(r[0]!.content).toContain('🔔 Approval pendente no Mission Control');
    expect(r[0]!.content).toContain('Approval ID: ap-1');
    expect(r[0]!.content).toContain('Link: http://mc.local/boards/b1');
    expect(r[0]!.content).not.toMatch(/(^|[^\u200b])@everyone/);
  });

  it('leaves task-linked approvals to the task planner and announced ones alone', () => {
    const linked = approval({ id: 'ap-3', taskId: 't1', taskIds: ['t1'] });
    const done = { [noticeKey('ap-1')]: { s: 'done' as const, at: NOW } };
    expect(posts(planUnlinkedApprovals(snapshot([linked, approval()], done)))).toEqual([]);
  });

  it('announces a pending approval whose tasks were all deleted as task-less, instead of skipping it', () => {
    const orphan = approval({ id: 'ap-4', taskId: 't-gone', taskIds: ['t-gone', 't-also-gone'], taskTitles: ['Gone', 'Also gone'] });
    const r = posts(planUnlinkedApprovals(snapshot([orphan])));
    expect(r.map((a) => a.idempotencyKey)).toEqual([noticeKey('ap-4')]);
    expect(r[0]!.content).toContain('Task: (nenhuma task vinculada)');
    // one task still on the board owns it: the task planner announces it there
    const partly = approval({ id: 'ap-5', taskId: 't-gone', taskIds: ['t-gone', 't1'] });
    expect(planUnlinkedApprovals(snapshot([partly])).actions).toEqual([]);
  });

  it('writes the notice in English with MC_MESSAGE_LOCALE=en', () => {
    const snap = snapshot([approval()]);
    const r = posts(planUnlinkedApprovals({ ...snap, settings: { ...snap.settings, locale: 'en' } }));
    expect(r[0]!.content.split('\n').slice(0, 2)).toEqual(['🔔 Approval pending in Mission Control', 'Task: (no linked task)']);
  });

  it('follows up a resolution once, only for an announced approval', () => {
    const resolved = approval({ status: 'approved', resolvedAt: NOW });
    expect(posts(planUnlinkedApprovals(snapshot([resolved])))).toEqual([]);
    const announced = { [noticeKey('ap-1')]: { s: 'done' as const, at: NOW - 1 } };
    const r = posts(planUnlinkedApprovals(snapshot([resolved], announced)));
    expect(r.map((a) => a.idempotencyKey)).toEqual([followUpKey('ap-1', 'approved')]);
    expect(r[0]!.content).toMatch(/^✅ Approval ap-1 approved/);
    const followed = { ...announced, [followUpKey('ap-1', 'approved')]: { s: 'done' as const, at: NOW } };
    expect(posts(planUnlinkedApprovals(snapshot([resolved], followed)))).toEqual([]);
  });

  describe('with a lost or fresh state file, the channel is the record', () => {
    const since = NOW - 60_000 - 5 * 60_000;

    it('asks the channel about what the ledger does not know as done, and nothing else', () => {
      const pending = approval();
      const resolved = approval({ id: 'ap-2', status: 'rejected', resolvedAt: NOW });
      expect(unlinkedWants(snapshot([pending, resolved]))?.posted).toEqual({
        purpose: 'approvals',
        queries: [
          { key: noticeKey('ap-1'), since },
          { key: noticeKey('ap-2'), since, final: true },
          { key: followUpKey('ap-2', 'rejected'), since },
        ],
      });
      const known = {
        [noticeKey('ap-1')]: { s: 'done' as const, at: NOW },
        [noticeKey('ap-2')]: { s: 'done' as const, at: NOW },
        [followUpKey('ap-2', 'rejected')]: { s: 'done' as const, at: NOW },
      };
      expect(unlinkedWants(snapshot([pending, resolved], known))).toBeUndefined();
      expect(unlinkedWants(snapshot([approval({ taskId: 't1', taskIds: ['t1'] })]))).toBeUndefined();
    });

    it('does not announce again a notice found in the channel', () => {
      expect(posts(planUnlinkedApprovals(snapshot([approval()], {}, { [noticeKey('ap-1')]: 'm1' })))).toEqual([]);
    });

    it('follows up a resolution whose notice is in the channel, once', () => {
      const resolved = approval({ status: 'approved', resolvedAt: NOW });
      const r = posts(planUnlinkedApprovals(snapshot([resolved], {}, { [noticeKey('ap-1')]: 'm1' })));
      expect(r.map((a) => a.idempotencyKey)).toEqual([followUpKey('ap-1', 'approved')]);
      const both = { [noticeKey('ap-1')]: 'm1', [followUpKey('ap-1', 'approved')]: 'm2' };
      expect(posts(planUnlinkedApprovals(snapshot([resolved], {}, both)))).toEqual([]);
    });
  });

  describe('under `once`, an approval resolved between two runs', () => {
    const done = (at = NOW) => ({ s: 'done' as const, at });

    it('is remembered while pending, so the next run asks for the resolved rows', () => {
      const r = planUnlinkedApprovals(snapshot([approval(), approval({ id: 'ap-0' })]));
      expect(writes(r)).toEqual([expect.objectContaining({ patch: { [AWAITING_KEY]: ['ap-0', 'ap-1'] } })]);
      // unchanged list: nothing to write
      expect(writes(planUnlinkedApprovals(snapshot([approval()], { [noticeKey('ap-1')]: done() }, undefined, ['ap-1'])))).toEqual([]);
      // the next process sees no pending approval: it wants the resolved ones
      expect(unlinkedWants(snapshot([], { [noticeKey('ap-1')]: done() }, undefined, ['ap-1']))).toEqual({ resolvedApprovals: true });
    });

    it('keeps a resolved approval until its follow-up is out, drops one never announced or deleted', () => {
      const resolved = approval({ status: 'approved', resolvedAt: NOW });
      const announced = { [noticeKey('ap-1')]: done() };
      const r = planUnlinkedApprovals(snapshot([resolved], announced, undefined, ['ap-1']));
      expect(posts(r).map((a) => a.idempotencyKey)).toEqual([followUpKey('ap-1', 'approved')]);
      expect(writes(r)).toEqual([]);
      const followed = { ...announced, [followUpKey('ap-1', 'approved')]: done() };
      expect(writes(planUnlinkedApprovals(snapshot([resolved], followed, undefined, ['ap-1'])))).toEqual([
        expect.objectContaining({ patch: { [AWAITING_KEY]: [] } }),
      ]);
      expect(writes(planUnlinkedApprovals(snapshot([resolved], {}, undefined, ['ap-1'])))).toEqual([expect.objectContaining({ patch: { [AWAITING_KEY]: [] } })]);
      expect(writes(planUnlinkedApprovals(snapshot([], {}, undefined, ['gone'])))).toEqual([expect.objectContaining({ patch: { [AWAITING_KEY]: [] } })]);
    });
  });
});
