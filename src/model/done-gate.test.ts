import { describe, expect, it } from 'vitest';
import { approval as approvalOf, board as boardOf, NOW } from '../../test/support/fixtures.js';
import type { Approval, Board } from './board.js';
import { emptyStatus, type ControllerStatus } from './conditions.js';
import { doneVerdict, GATE_RULES, rejectedApproval, ruleOfRefusal, standingRefusal } from './done-gate.js';

const board = (over: Partial<Board> = {}): Board => boardOf({ updatedAt: NOW - 60_000, ...over });
const approval = (status: Approval['status'], at = NOW - 30_000, id = 'a1'): Approval => approvalOf(status, at, id);
const refused = (at: number, ext?: string): ControllerStatus => ({ ...emptyStatus(), ledger: { 'refused:done': { s: 'failed', at, ...(ext ? { ext } : {}) } } });

describe('done gate', () => {
  // The 409 texts upstream sends (conformance errors.jsonl, `detail.message`).
  it.each([
    ['Task can only be marked done when a linked approval has been approved.', GATE_RULES.approval],
    ['Task can only be marked done from review when the board rule is enabled.', GATE_RULES.review],
    ['Task status cannot be changed while a linked approval is pending.', GATE_RULES.pending],
    ['Task is blocked by incomplete dependencies.', GATE_RULES.dependencies],
    ['Something new upstream.', 'board refused: Something new upstream.'],
  ])('names the rule behind %s', (message, rule) => {
    expect(ruleOfRefusal(message)).toBe(rule);
  });

  it('judges the rules in upstream order: pending block, review before done, approval for done', () => {
    const all = board({ blockStatusChangesWithPendingApproval: true, requireReviewBeforeDone: true });
    expect(doneVerdict({ status: 'in_progress' }, all, [approval('pending')], emptyStatus())).toEqual({ status: 'review', rule: GATE_RULES.pending });
    expect(doneVerdict({ status: 'in_progress' }, all, [], emptyStatus())).toEqual({ status: 'review', rule: GATE_RULES.review });
    expect(doneVerdict({ status: 'review' }, all, [approval('rejected')], emptyStatus())).toEqual({ status: 'review', rule: GATE_RULES.approval });
    expect(doneVerdict({ status: 'review' }, all, [approval('rejected'), approval('approved', NOW, 'a2')], emptyStatus())).toEqual({ status: 'done', rule: null });
    expect(doneVerdict({ status: 'in_progress' }, board({ requireApprovalForDone: false }), [], emptyStatus())).toEqual({ status: 'done', rule: null });
  });

  it('a refusal stands until the board or a linked approval changes after it', () => {
    const entry = refused(NOW - 10_000, GATE_RULES.approval).ledger['refused:done'];
    expect(standingRefusal(entry, board(), [approval('pending', NOW - 20_000)])).toBe(GATE_RULES.approval);
    expect(standingRefusal(entry, board({ updatedAt: NOW }), [])).toBeNull();
    expect(standingRefusal(entry, board(), [approval('approved', NOW)])).toBeNull();
    // an entry from before refusals carried their rule still keeps the task out of done
    expect(doneVerdict({ status: 'review' }, board({ requireApprovalForDone: false }), [], refused(NOW))).toEqual({ status: 'review', rule: 'the board refused done earlier' });
  });

  it('a rejection counts only while nothing is pending or approved; the newest one is named', () => {
    expect(rejectedApproval([approval('rejected', NOW - 5000, 'old'), approval('rejected', NOW, 'new')])?.id).toBe('new');
    expect(rejectedApproval([approval('rejected'), approval('pending', NOW, 'p')])).toBeNull();
    expect(rejectedApproval([approval('rejected'), approval('approved', NOW, 'ok')])).toBeNull();
  });
});
