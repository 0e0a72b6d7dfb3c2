import { HttpError, oneLine, type HttpErrorKind, type HttpFailure } from '../http/errors.js';

/**
 * Mission Control's `{detail, request_id}` errors as one typed class. `kind` says what went wrong,
 * `detail` keeps the server's words, and the predicates recognise the business rules the controller
 * must react to (done gate, one pending approval per task) without string matching at call sites.
 */

export type McErrorDetail = string | unknown[] | Record<string, unknown> | null;

const DONE_GATE = /only be marked done when a linked approval has been approved/i;
const ONE_PENDING = /only one pending approval/i;
const PENDING_BLOCKS_STATUS = /cannot be changed while a linked approval is pending/i;

function detailOf(body: unknown): McErrorDetail {
  if (body && typeof body === 'object' && !Array.isArray(body) && 'detail' in body) {
    const d = (body as { detail: unknown }).detail;
    if (typeof d === 'string' || Array.isArray(d)) return d;
    if (d && typeof d === 'object') return d as Record<string, unknown>;
    return d === null || d === undefined ? null : String(d);
  }
  if (typeof body === 'string' && body !== '') return body;
  return null;
}

function locText(loc: unknown): string {
  if (!Array.isArray(loc)) return '';
  return loc.map(String).join('.');
}

function listValue(v: unknown): string {
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * A readable one-line summary of any `detail`: the FastAPI list `[{loc,msg}]`, a domain object
 * `{message, unknown_field_keys, field_key, reason, …}`, or a bare string.
 */
export function summarizeDetail(detail: McErrorDetail): string {
  if (detail === null) return '';
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        if (item && typeof item === 'object') {
          const { loc, msg } = item as { loc?: unknown; msg?: unknown };
          const where = locText(loc);
          const text = typeof msg === 'string' ? msg : JSON.stringify(item);
          return where ? `${where}: ${text}` : text;
        }
        return String(item);
      })
      .join('; ');
  }
  const { message, ...rest } = detail;
  const extras = Object.entries(rest)
    .filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}: ${listValue(v)}`);
  const head = typeof message === 'string' ? message : '';
  if (extras.length === 0) return head || JSON.stringify(detail);
  return head ? `${head} (${extras.join('; ')})` : extras.join('; ');
}

const KIND_TEXT: Record<HttpErrorKind, string> = {
  unauthorized: 'unauthorized',
  forbidden: 'forbidden',
  not_found: 'not found',
  method_not_allowed: 'method not allowed',
  conflict: 'conflict',
  validation: 'rejected as invalid',
  rate_limited: 'rate limited',
  client: 'client error',
  server: 'server error',
  timeout: 'timed out',
  network: 'unreachable',
  invalid_response: 'answered with an unreadable body',
};

function describe(f: HttpFailure, detail: McErrorDetail): string {
  const call = `${f.method} ${f.path}`;
  const rid = f.requestId ? ` (request_id ${f.requestId})` : '';
  const tries = f.attempts > 1 ? ` after ${f.attempts} attempts` : '';
  if (f.kind === 'unauthorized') {
    return oneLine(
      `Mission Control rejected the auth token (401 on ${call}): set a valid token in MC_AUTH_TOKEN ` +
        `or "auth_token" in config/mission-control-ids.local.json${rid}`,
    );
  }
  const status = f.status === null ? '' : `${f.status} `;
  const cause = f.cause instanceof Error && f.status === null ? `: ${f.cause.message}` : '';
  const summary = summarizeDetail(detail);
  return oneLine(`Mission Control ${call} ${status}${KIND_TEXT[f.kind]}${cause}${summary ? `: ${summary}` : ''}${tries}${rid}`);
}

export class MissionControlError extends HttpError {
  readonly detail: McErrorDetail;

  constructor(failure: HttpFailure) {
    const detail = detailOf(failure.body);
    super(failure, describe(failure, detail));
    this.name = 'MissionControlError';
    this.detail = detail;
  }

  /** `detail.message` for domain errors, the bare string otherwise */
  get detailMessage(): string | null {
    if (typeof this.detail === 'string') return this.detail;
    if (this.detail && !Array.isArray(this.detail) && typeof this.detail.message === 'string') return this.detail.message;
    return null;
  }

  /** `detail.code` of domain errors (e.g. `task_blocked_cannot_transition`) */
  get code(): string | null {
    if (this.detail && typeof this.detail === 'object' && !Array.isArray(this.detail)) {
      const code = this.detail.code;
      return typeof code === 'string' ? code : null;
    }
    return null;
  }

  /** 409 from `require_approval_for_done`: needs an approved linked approval (or the rule switched off) */
  isDoneGate(): boolean {
    return this.status === 409 && DONE_GATE.test(this.detailMessage ?? '');
  }

  /** 409: the task already has a pending approval (upstream allows one per task) */
  isPendingApprovalConflict(): boolean {
    return this.status === 409 && ONE_PENDING.test(this.detailMessage ?? '');
  }

  /** 409 from `block_status_changes_with_pending_approval` */
  isBlockedByPendingApproval(): boolean {
    return this.status === 409 && PENDING_BLOCKS_STATUS.test(this.detailMessage ?? '');
  }

  /** worth trying again later without changing the request */
  get transient(): boolean {
    return this.kind === 'rate_limited' || this.kind === 'server' || this.kind === 'timeout' || this.kind === 'network';
  }
}

export function isMissionControlError(err: unknown): err is MissionControlError {
  return err instanceof MissionControlError;
}
