import { idempotencyKey } from '../../src/model/index.js';

/** One notice per approval, one follow-up per resolution: keyed by approval id, wherever the ledger lives. */
export const noticeKey = (approvalId: string): string => idempotencyKey(approvalId, 'approval-notice');
export const followUpKey = (approvalId: string, status: string): string => idempotencyKey(approvalId, 'approval-followup', status);
