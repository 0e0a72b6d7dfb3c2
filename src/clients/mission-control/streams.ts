import type { Logger } from 'pino';
import type { z } from 'zod';
import { openSseStream, type SseHandle, type SseMessage, type SseStreamOptions } from '../http/sse.js';
import type { HttpTransport } from '../http/transport.js';
import type { ApprovalStreamEvent, StreamHandlers, TaskStreamEvent } from './api.js';
import {
  ApprovalReadSchema,
  ApprovalStreamDataSchema,
  parseMcTimestamp,
  TaskCommentReadSchema,
  TaskReadSchema,
  TaskStreamDataSchema,
  toComment,
  zodProblem,
} from './schema.js';

/**
 * The two board change streams. Both resume with `since=<newest timestamp seen>` after a reconnect,
 * which replays the boundary event; replays are dropped here so handlers see each change once.
 */

export type StreamTuning = Pick<SseStreamOptions, 'backoff' | 'idleTimeoutMs' | 'healthyAfterMs' | 'minDelayMs' | 'random'>;

/** Remembers the last `capacity` keys (insertion order), so dedupe memory stays bounded on a long run. */
export class RecentKeys {
  private readonly keys = new Set<string>();
  constructor(private readonly capacity = 10_000) {}

  /** true the first time a key is seen */
  add(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.values().next().value;
      if (oldest !== undefined) this.keys.delete(oldest);
    }
    return true;
  }
}

/** Tracks the newest server timestamp seen, keeping the server's own text to send back verbatim. */
class ResumePoint {
  private at = -Infinity;
  private text: string | null = null;

  see(raw: string | null | undefined): void {
    if (!raw) return;
    const at = parseMcTimestamp(raw);
    if (at !== null && at > this.at) {
      this.at = at;
      this.text = raw;
    }
  }

  /** `from`: epoch ms the caller's listing began (StreamHandlers.since), or undefined to start at the connection. */
  constructor(from: number | undefined) {
    this.from = from === undefined ? undefined : new Date(from - CLOCK_SLACK_MS).toISOString();
    this.openedAt = this.from ?? new Date(Date.now() - CLOCK_SLACK_MS).toISOString();
  }

  /**
   * First connection: from the caller's listing when it gave one, else undefined so the server defaults
   * `since` to now. Later connections with nothing seen yet resume from the first one's point (or when the
   * stream was opened), so a change made while reconnecting is not lost; replays are deduplicated anyway.
   */
  query(): { since: string | undefined } {
    if (this.connections++ === 0) return { since: this.from };
    return { since: this.text ?? this.openedAt };
  }

  private connections = 0;
  private readonly from: string | undefined;
  private readonly openedAt: string;
}

/** Mission Control's clock and ours differ a little: ask from slightly earlier (replays are deduplicated). */
const CLOCK_SLACK_MS = 2_000;

function parseJson(msg: SseMessage, log: Logger | undefined, path: string): unknown {
  try {
    return JSON.parse(msg.data) as unknown;
  } catch {
    log?.warn({ path, event: msg.event }, 'stream event skipped: data is not JSON');
    return undefined;
  }
}

/**
 * What both board streams share: JSON parsing, the envelope check with one log line for a bad event, the
 * resume point and the replay filter. `handle` gets each valid envelope once it passed those.
 */
function boardStream<S extends z.ZodType>(
  transport: HttpTransport,
  path: string,
  what: string,
  envelope: S,
  handlers: Pick<StreamHandlers<unknown>, 'onError' | 'since'>,
  log: Logger | undefined,
  tuning: StreamTuning,
  handle: (data: z.output<S>, seen: RecentKeys, resume: ResumePoint) => void,
): SseHandle {
  const seen = new RecentKeys();
  const resume = new ResumePoint(handlers.since);
  const onMessage = (msg: SseMessage): void => {
    const raw = parseJson(msg, log, path);
    if (raw === undefined) return;
    const parsed = envelope.safeParse(raw);
    if (!parsed.success) {
      log?.warn({ path, problem: zodProblem(parsed.error) }, `${what} stream event skipped: unexpected shape`);
      return;
    }
    handle(parsed.data, seen, resume);
  };
  return openSseStream({ ...tuning, transport, path, query: () => resume.query(), onMessage, onError: handlers.onError, logger: log });
}

const TASK_TYPES = new Set(['task.created', 'task.updated', 'task.status_changed']);

export function streamTaskEvents(
  transport: HttpTransport,
  boardId: string,
  handlers: StreamHandlers<TaskStreamEvent>,
  log: Logger | undefined,
  tuning: StreamTuning = {},
): SseHandle {
  const path = `/boards/${encodeURIComponent(boardId)}/tasks/stream`;
  return boardStream(transport, path, 'task', TaskStreamDataSchema, handlers, log, tuning, (data, seen, resume) => {
    const { type, activity } = data;
    resume.see(activity?.created_at);
    if (activity?.id && !seen.add(activity.id)) return;
    const at = (activity?.created_at ? parseMcTimestamp(activity.created_at) : null) ?? Date.now();
    const activityTaskId = activity?.task_id ?? null;

    if (TASK_TYPES.has(type)) {
      let task = null;
      if (data.task !== null && data.task !== undefined) {
        const t = TaskReadSchema.safeParse(data.task);
        if (t.success) task = t.data;
        else log?.warn({ path, taskId: activityTaskId, problem: zodProblem(t.error) }, 'task in stream event unreadable');
      }
      handlers.onEvent({
        type: type as 'task.created' | 'task.updated' | 'task.status_changed',
        taskId: activityTaskId ?? task?.id ?? null,
        task,
        at,
      });
    } else if (type === 'task.comment') {
      let comment = null;
      const c = TaskCommentReadSchema.safeParse(data.comment);
      if (c.success) comment = toComment(c.data, activityTaskId);
      else log?.warn({ path, taskId: activityTaskId, problem: zodProblem(c.error) }, 'comment in stream event unreadable');
      handlers.onEvent({ type: 'task.comment', taskId: activityTaskId ?? comment?.taskId ?? null, comment, at });
    } else {
      log?.debug({ path, type }, 'task stream event of an unhandled type ignored');
    }
  });
}

export function streamApprovalEvents(
  transport: HttpTransport,
  boardId: string,
  handlers: StreamHandlers<ApprovalStreamEvent>,
  log: Logger | undefined,
  tuning: StreamTuning = {},
): SseHandle {
  const path = `/boards/${encodeURIComponent(boardId)}/approvals/stream`;
  return boardStream(transport, path, 'approval', ApprovalStreamDataSchema, handlers, log, tuning, (data, seen, resume) => {
    const wire = data.approval;
    resume.see(wire.created_at);
    resume.see(wire.resolved_at);
    // the server re-selects recent approvals every poll (~2 s) without dedupe; a change of status or resolution is news
    if (!seen.add(`${wire.id}|${wire.status}|${wire.resolved_at ?? ''}`)) return;
    const approval = ApprovalReadSchema.safeParse(wire);
    if (!approval.success) {
      log?.warn({ path, approvalId: wire.id, problem: zodProblem(approval.error) }, 'approval stream event skipped: unreadable approval');
      return;
    }
    handlers.onEvent({ approval: approval.data, pendingApprovalsCount: data.pending_approvals_count ?? null });
  });
}
