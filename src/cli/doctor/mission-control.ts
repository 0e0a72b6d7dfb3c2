/** Mission Control checks: reachable with a valid token, boards exist, fields bootstrapped, board rules explained. */
import type { Config } from '../../config/index.js';
import type { MissionControlApi } from '../../clients/mission-control/api.js';
import { isMissionControlError } from '../../clients/mission-control/errors.js';
import { DESIRED_FIELDS, type Board, type FieldDefinition } from '../../model/index.js';
import { NOT_CONFIGURED } from '../context.js';
import { errorText, fail, pass, skip, warn, type CheckResult } from './check.js';
import { singleWriterCheck } from './writers.js';

const BOOTSTRAP_HINT = 'run `mc-controller bootstrap` (creates, binds and repairs the controller fields; `--dry-run` shows what it would do)';

function reachHint(err: unknown): string {
  if (isMissionControlError(err)) {
    if (err.kind === 'unauthorized')
      return 'the token was refused: set MC_AUTH_TOKEN (or auth_token in config/mission-control-ids.local.json) to the board\'s LOCAL_AUTH_TOKEN';
    if (err.kind === 'forbidden') return 'the token is valid but may not read this organization; use the local-auth token of the board\'s owner';
    if (err.kind === 'not_found') return 'MC_API_URL must be the API base including /api/v1, e.g. http://127.0.0.1:8000/api/v1';
  }
  return 'check MC_API_URL (API base including /api/v1) and that Mission Control is running and reachable from here';
}

/** Field problems in words; empty when every controller field exists, has the right type and is bound to every board. */
export function fieldProblems(existing: readonly FieldDefinition[], boardIds: readonly string[]): string[] {
  const out: string[] = [];
  const missing: string[] = [];
  for (const want of DESIRED_FIELDS) {
    const have = existing.find((f) => f.fieldKey === want.fieldKey);
    if (!have) {
      missing.push(want.fieldKey);
      continue;
    }
    if (have.fieldType !== want.fieldType) out.push(`${want.fieldKey} is ${have.fieldType}, needs ${want.fieldType}`);
    const unbound = boardIds.filter((b) => !have.boardIds.includes(b));
    if (unbound.length > 0) out.push(`${want.fieldKey} not bound to board ${unbound.join(', ')}`);
    if (have.required) out.push(`${want.fieldKey} is required (would block task writes)`);
  }
  if (missing.length > 0) out.unshift(`${missing.length} of ${DESIRED_FIELDS.length} missing: ${missing.join(', ')}`);
  return out;
}

/** What the board's rules mean for the controller; a warning when a setting cannot take effect. */
export function boardRules(board: Board, config: Config): CheckResult {
  const name = `board rules (${board.name || board.id})`;
  const notes: string[] = [];
  const hints: string[] = [];
  if (board.requireApprovalForDone) {
    if (config.watchdog.doneOnSessionEnd) {
      notes.push('require_approval_for_done is on: a finished task moves to done only when an approved approval links it, otherwise to review');
      hints.push(
        'MC_DONE_ON_SESSION_END=true cannot move tasks straight to done on this board: approve the linked approval, or switch require_approval_for_done off on the board',
      );
    } else notes.push('require_approval_for_done is on: finished tasks go to review (MC_DONE_ON_SESSION_END is off)');
  } else notes.push(`require_approval_for_done is off: finished tasks go to ${config.watchdog.doneOnSessionEnd ? 'done' : 'review'}`);
  if (board.requireReviewBeforeDone) notes.push('require_review_before_done is on: done only from review');
  if (board.blockStatusChangesWithPendingApproval)
    notes.push('block_status_changes_with_pending_approval is on: while an approval is pending the controller leaves the status alone and moves the task after the approval resolves');
  const detail = notes.join('; ');
  return hints.length > 0 ? warn(name, detail, hints.join('; ')) : pass(name, detail);
}

export async function missionControlChecks(config: Config, mc: MissionControlApi | null): Promise<CheckResult[]> {
  if (!mc || !config.mc.apiUrl) {
    return [
      fail(
        'mission control',
        'not configured (MC_API_URL unset)',
        NOT_CONFIGURED,
      ),
    ];
  }
  const results: CheckResult[] = [];
  let visible: Board[];
  try {
    visible = await mc.listBoards();
    results.push(pass('mission control', `${config.mc.apiUrl} reachable, token accepted (${visible.length} board(s) visible)`));
  } catch (err) {
    results.push(fail('mission control', errorText(err), reachHint(err)));
    results.push(skip('boards', 'needs Mission Control'), skip('custom fields', 'needs Mission Control'));
    return results;
  }

  const boards: Board[] = [];
  const missing: string[] = [];
  for (const id of config.mc.boardIds) {
    const listed = visible.find((b) => b.id === id);
    if (listed) {
      boards.push(listed);
      continue;
    }
    try {
      boards.push(await mc.getBoard(id));
    } catch (err) {
      if (isMissionControlError(err) && (err.kind === 'not_found' || err.kind === 'validation')) missing.push(id);
      else missing.push(`${id} (${errorText(err)})`);
    }
  }
  results.push(
    missing.length === 0
      ? pass('boards', boards.map((b) => `${b.name || '(unnamed)'} ${b.id}`).join(', '))
      : fail('boards', `not found: ${missing.join(', ')}`, `MC_BOARD_ID must list existing board ids (${visible.length} visible to this token)`),
  );

  try {
    const problems = fieldProblems(await mc.listFieldDefinitions(), boards.map((b) => b.id));
    results.push(
      problems.length === 0
        ? pass('custom fields', `all ${DESIRED_FIELDS.length} controller fields present with the right types and bound to every board`)
        : fail('custom fields', problems.join('; '), BOOTSTRAP_HINT),
    );
  } catch (err) {
    results.push(fail('custom fields', errorText(err), reachHint(err)));
  }
  for (const board of boards) results.push(boardRules(board, config));
  try {
    results.push(await singleWriterCheck(mc, boards));
  } catch (err) {
    results.push(warn('single writer', `could not read recent comments: ${errorText(err)}`, reachHint(err)));
  }
  return results;
}
