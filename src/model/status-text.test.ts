import { describe, expect, it } from 'vitest';
import type { Condition } from './conditions.js';
import { statusText } from './status-text.js';

const at = '2026-12-04T12:50:00.000Z';
const c = (type: string, status: Condition['status'], reason: string, message = '', lastTransitionTime = at): Condition => ({ type, status, reason, message, lastTransitionTime });

describe('mc_status line', () => {
  it.each<[string, string, Condition[], string | null]>([
    ['a stall, with when activity stopped', 'review', [c('Stalled', 'True', 'NoActivity', 'no activity for 47 min')], 'Stalled 47 min — no agent activity since 4 Dec 12:03 UTC'],
    ['the done gate', 'review', [c('Blocked', 'True', 'DoneAwaitingApproval', 'the agent reported done; board requires an approved approval for done')], 'Waiting for approval of done'],
    ['review before done', 'review', [c('Blocked', 'True', 'DoneAwaitingApproval', 'the agent reported done; board requires review before done')], 'Waiting for review before done'],
    ['a rejection', 'review', [c('Blocked', 'True', 'ApprovalRejected', 'approval a1 rejected; done refused')], 'Approval rejected — stays in review (approval a1 rejected; done refused)'],
    ['delivered', 'done', [c('Blocked', 'False', 'Approved'), c('Delivered', 'True', 'Posted', 'result posted', '2026-12-04T12:40:00.000Z')], 'Delivered to Discord 4 Dec 12:40 UTC'],
    ['done, not delivered', 'done', [c('Completed', 'True', 'SessionFinished')], 'Done'],
    ['a running session', 'in_progress', [c('SessionLinked', 'True', 'Linked', 'linked to agent:main:x')], 'Running — linked to agent:main:x'],
    ['retries exhausted wins over the rest', 'review', [c('Stalled', 'True', 'NoActivity', 'no activity for 5 min'), c('Failed', 'True', 'RetriesExhausted', 'session x failed')], 'Needs a human — session x failed'],
    ['a task the controller never touched', 'inbox', [], null],
  ])('%s', (_, status, conditions, line) => {
    expect(statusText(status, conditions)).toBe(line);
  });
});
