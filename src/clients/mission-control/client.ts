import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import type { Approval, ApprovalStatus, Board, FieldDefinition, Task, TaskComment, TaskStatus } from '../../model/index.js';
import type { BackoffPolicy } from '../http/backoff.js';
import type { HttpFailure } from '../http/errors.js';
import type { SseHandle } from '../http/sse.js';
import { HttpTransport, type HttpMethod, type HttpStats, type QueryValue } from '../http/transport.js';
import type {
  ApprovalCreateInput,
  ApprovalStreamEvent,
  FieldDefinitionInput,
  Listed,
  MissionControlApi,
  Rejected,
  StreamHandlers,
  TaskCreateInput,
  TaskStreamEvent,
  TaskUpdateInput,
} from './api.js';
import { bodies } from './bodies.js';
import { MissionControlError } from './errors.js';
import {
  AgentReadSchema,
  ApprovalReadSchema,
  type AgentSummary,
  BoardReadSchema,
  FieldDefinitionReadSchema,
  PageEnvelopeSchema,
  parseRows,
  TaskCommentReadSchema,
  TaskReadSchema,
  toComment,
  zodProblem,
} from './schema.js';
import { streamApprovalEvents, streamTaskEvents, type StreamTuning } from './streams.js';

/** upstream's maximum page size (more → 422) */
export const PAGE_LIMIT = 200;

export interface MissionControlClientOptions {
  /** includes /api/v1, e.g. http://127.0.0.1:8000/api/v1 */
  apiUrl: string;
  token: string;
  /** per attempt, headers and body; default 10 000 */
  timeoutMs?: number;
  /** retries of idempotent requests (GET/PUT/DELETE) only; default 4 */
  retries?: number;
  /** until an SSE stream's headers arrive (MC_STREAM_CONNECT_TIMEOUT_MS); default 30 000 */
  streamConnectTimeoutMs?: number;
  logger?: Logger;
  dispatcher?: Dispatcher;
  userAgent?: string;
  /** retry delays of idempotent requests; default 250 ms → 8 s, full jitter */
  backoff?: BackoffPolicy;
  /** guard against a server that pages forever; default 1 000 pages (200 000 rows) */
  maxPages?: number;
  /** reconnect timing of the SSE streams */
  stream?: StreamTuning;
  /** called after each page of a listing (progress of a long read on a terminal) */
  onPage?: (page: { path: string; rows: number; total: number }) => void;
  /** aborting it cancels every request in flight and later (the shutdown's drain deadline) */
  signal?: AbortSignal;
}

export type MissionControlStats = HttpStats;

const seg = encodeURIComponent;

export class MissionControlClient implements MissionControlApi {
  private readonly http: HttpTransport;
  private readonly log: Logger | undefined;
  private readonly maxPages: number;
  private readonly streamTuning: StreamTuning;
  private readonly onPage: MissionControlClientOptions['onPage'];

  constructor(opts: MissionControlClientOptions) {
    this.log = opts.logger;
    this.onPage = opts.onPage;
    this.maxPages = opts.maxPages ?? 1_000;
    this.streamTuning = opts.stream ?? {};
    this.http = new HttpTransport({
      baseUrl: opts.apiUrl,
      headers: { authorization: `Bearer ${opts.token}` },
      timeoutMs: opts.timeoutMs ?? 10_000,
      retries: opts.retries ?? 4,
      ...(opts.streamConnectTimeoutMs !== undefined ? { streamConnectTimeoutMs: opts.streamConnectTimeoutMs } : {}),
      backoff: opts.backoff,
      dispatcher: opts.dispatcher,
      logger: opts.logger,
      userAgent: opts.userAgent ?? 'mc-controller',
      makeError: (failure) => new MissionControlError(failure),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  /** a snapshot: requests (retries and stream connections included), writes, retries, failures */
  get stats(): MissionControlStats {
    return this.http.stats;
  }

  // ---- boards ----

  async getBoard(boardId: string): Promise<Board> {
    return this.one('GET', `/boards/${seg(boardId)}`, BoardReadSchema);
  }

  async listBoards(): Promise<Board[]> {
    return this.skipRejected(await this.pages('/boards', {}, BoardReadSchema, 'board'));
  }

  /** every agent of the organisation (upstream: admin route; the local token qualifies) */
  async listAgents(): Promise<AgentSummary[]> {
    return this.skipRejected(await this.pages('/agents', {}, AgentReadSchema, 'agent'));
  }

  // ---- tasks and comments ----

  async listTasks(boardId: string, opts: { statuses?: TaskStatus[] } = {}): Promise<Listed<Task>> {
    const status = opts.statuses && opts.statuses.length > 0 ? opts.statuses.join(',') : undefined;
    return this.pages(`/boards/${seg(boardId)}/tasks`, { status }, TaskReadSchema, 'task');
  }

  async createTask(boardId: string, input: TaskCreateInput): Promise<Task> {
    return this.one('POST', `/boards/${seg(boardId)}/tasks`, TaskReadSchema, bodies.createTask(input));
  }

  async updateTask(boardId: string, taskId: string, input: TaskUpdateInput): Promise<Task> {
    return this.one('PATCH', `/boards/${seg(boardId)}/tasks/${seg(taskId)}`, TaskReadSchema, bodies.updateTask(input));
  }

  async listComments(boardId: string, taskId: string): Promise<Listed<TaskComment>> {
    const listed = await this.pages(
      `/boards/${seg(boardId)}/tasks/${seg(taskId)}/comments`,
      {},
      TaskCommentReadSchema,
      'comment',
    );
    const items: TaskComment[] = [];
    for (const wire of listed.items) {
      const comment = toComment(wire, taskId);
      if (comment) items.push(comment);
    }
    return { items, rejected: listed.rejected, requests: listed.requests };
  }

  async createComment(boardId: string, taskId: string, message: string): Promise<TaskComment> {
    const path = `/boards/${seg(boardId)}/tasks/${seg(taskId)}/comments`;
    const wire = await this.one('POST', path, TaskCommentReadSchema, { message });
    const comment = toComment(wire, taskId);
    if (!comment) throw this.invalid('POST', path, 'comment without task id');
    return comment;
  }

  // ---- custom fields (org-scoped; bare array) ----

  async listFieldDefinitions(): Promise<FieldDefinition[]> {
    const path = '/organizations/me/custom-fields';
    const res = await this.http.send({ method: 'GET', path });
    if (!Array.isArray(res.body)) throw this.invalid('GET', path, 'expected an array of field definitions');
    const { items, rejected } = parseRows(res.body, FieldDefinitionReadSchema, 'field');
    return this.skipRejected({ items, rejected, requests: 1 });
  }

  async createFieldDefinition(input: FieldDefinitionInput): Promise<FieldDefinition> {
    return this.one('POST', '/organizations/me/custom-fields', FieldDefinitionReadSchema, bodies.createFieldDefinition(input));
  }

  async updateFieldDefinition(id: string, input: Partial<Omit<FieldDefinitionInput, 'fieldKey'>>): Promise<FieldDefinition> {
    return this.one('PATCH', `/organizations/me/custom-fields/${seg(id)}`, FieldDefinitionReadSchema, bodies.updateFieldDefinition(input));
  }

  // ---- approvals ----

  async listApprovals(boardId: string, opts: { status?: ApprovalStatus; createdSince?: number } = {}): Promise<Listed<Approval>> {
    // newest first upstream (created_at DESC): once a page reaches past `createdSince`, later pages are older still
    const since = opts.createdSince;
    const enough = since === undefined ? undefined : (page: Approval[]) => page.some((a) => a.createdAt < since);
    return this.pages(`/boards/${seg(boardId)}/approvals`, { status: opts.status }, ApprovalReadSchema, 'approval', enough);
  }

  async createApproval(boardId: string, input: ApprovalCreateInput): Promise<Approval> {
    return this.one('POST', `/boards/${seg(boardId)}/approvals`, ApprovalReadSchema, bodies.createApproval(input));
  }

  async updateApproval(boardId: string, approvalId: string, status: ApprovalStatus): Promise<Approval> {
    return this.one('PATCH', `/boards/${seg(boardId)}/approvals/${seg(approvalId)}`, ApprovalReadSchema, { status });
  }

  // ---- streams ----

  streamTasks(boardId: string, handlers: StreamHandlers<TaskStreamEvent>): SseHandle {
    return streamTaskEvents(this.http, boardId, handlers, this.log, this.streamTuning);
  }

  streamApprovals(boardId: string, handlers: StreamHandlers<ApprovalStreamEvent>): SseHandle {
    return streamApprovalEvents(this.http, boardId, handlers, this.log, this.streamTuning);
  }

  // ---- plumbing ----

  private invalid(method: HttpMethod, path: string, problem: string, requestId: string | null = null): MissionControlError {
    const failure: HttpFailure = {
      kind: 'invalid_response',
      status: 200,
      method,
      path,
      requestId,
      body: { detail: problem },
      retryAfterMs: null,
      attempts: 1,
    };
    return new MissionControlError(failure);
  }

  /** one object in, one validated object out; an unreadable answer is an `invalid_response` error */
  private async one<T>(method: HttpMethod, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
    const res = await this.http.send({ method, path, body });
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) {
      throw this.invalid(method, path, `unexpected response shape: ${zodProblem(parsed.error)}`, res.requestId);
    }
    return parsed.data;
  }

  /**
   * Every page at limit 200 until `offset + items >= total` or an empty page. Rows are deduplicated
   * by id (new rows shift a created_at-DESC listing between pages), and paging stops early if a page
   * brings nothing new (a server ignoring `offset`) or after `maxPages`.
   */
  private async pages<T extends { id: string }>(
    path: string,
    query: Record<string, QueryValue>,
    schema: z.ZodType<T>,
    kind: Rejected['kind'],
    /** stop after a page for which this holds (a sorted list that already reached what the caller needs) */
    enough?: (page: T[]) => boolean,
  ): Promise<Listed<T>> {
    const items: T[] = [];
    const rejected: Rejected[] = [];
    const ids = new Set<string>();
    let offset = 0;
    let requests = 0;
    for (;;) {
      if (requests >= this.maxPages) {
        this.log?.warn({ path, pages: requests, rows: items.length }, 'stopped paging: page limit reached');
        break;
      }
      const res = await this.http.send({ method: 'GET', path, query: { ...query, limit: PAGE_LIMIT, offset } });
      requests++;
      const page = PageEnvelopeSchema.safeParse(res.body);
      if (!page.success) {
        throw this.invalid('GET', path, `unexpected page shape: ${zodProblem(page.error)}`, res.requestId);
      }
      const rows = page.data.items;
      const parsed = parseRows(rows, schema, kind);
      let fresh = 0;
      for (const item of parsed.items) {
        if (ids.has(item.id)) continue;
        ids.add(item.id);
        items.push(item);
        fresh++;
      }
      rejected.push(...parsed.rejected);
      this.onPage?.({ path, rows: items.length, total: page.data.total });
      if (rows.length === 0 || enough?.(parsed.items)) break;
      offset += rows.length;
      if (offset >= page.data.total) break;
      if (fresh === 0 && parsed.rejected.length === 0) {
        this.log?.warn({ path, offset, total: page.data.total }, 'stopped paging: page repeated rows already seen');
        break;
      }
    }
    return { items, rejected, requests };
  }

  /** for calls whose contract returns plain arrays: log each skipped row once */
  private skipRejected<T>(listed: Listed<T>): T[] {
    for (const r of listed.rejected) {
      this.log?.warn({ kind: r.kind, id: r.id, problem: r.problem }, 'Mission Control row skipped: failed validation');
    }
    return listed.items;
  }
}
