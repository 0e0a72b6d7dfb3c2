import type { Approval, ApprovalStatus, Board, FieldDefinition, FieldType, Task, TaskComment, TaskStatus } from '../../model/index.js';
import type { AgentSummary } from './schema.js';

/** The Mission Control calls the controller makes (see shared/reference/mission-control-api.md). */

export interface TaskCreateInput {
  title: string;
  description?: string | null;
  status?: TaskStatus;
  priority?: string;
  assignedAgentId?: string | null;
  customFieldValues?: Record<string, unknown>;
}

export interface TaskUpdateInput {
  status?: TaskStatus;
  comment?: string;
  customFieldValues?: Record<string, unknown>;
  title?: string;
  description?: string | null;
  assignedAgentId?: string | null;
}

export interface FieldDefinitionInput {
  fieldKey: string;
  label?: string;
  fieldType: FieldType;
  uiVisibility?: 'always' | 'if_set' | 'hidden';
  required?: boolean;
  defaultValue?: unknown;
  description?: string | null;
  boardIds: string[];
}

export interface ApprovalCreateInput {
  actionType: string;
  confidence: number;
  taskId?: string;
  taskIds?: string[];
  payload?: Record<string, unknown>;
  leadReasoning?: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** A row the boundary could not validate: skipped by the caller with one log line. */
export interface Rejected {
  kind: 'task' | 'approval' | 'comment' | 'field' | 'board' | 'agent';
  id: string | null;
  problem: string;
}

export interface Listed<T> {
  items: T[];
  rejected: Rejected[];
  /** HTTP requests it took (pages) */
  requests: number;
}

export interface StreamHandle {
  close(): void;
}

export interface StreamHandlers<T> {
  onEvent(event: T): void;
  onError?(error: Error): void;
}

export type TaskStreamEvent =
  | { type: 'task.created' | 'task.updated' | 'task.status_changed'; taskId: string | null; task: Task | null; at: number }
  | { type: 'task.comment'; taskId: string | null; comment: TaskComment | null; at: number };

export interface ApprovalStreamEvent {
  approval: Approval;
  pendingApprovalsCount: number | null;
}

export interface MissionControlApi {
  getBoard(boardId: string): Promise<Board>;
  listBoards(): Promise<Board[]>;
  /** the organisation's agents (every page): `task create --assignee` checks the id exists */
  listAgents(): Promise<AgentSummary[]>;
  /** every page (limit 200), optionally filtered by statuses */
  listTasks(boardId: string, opts?: { statuses?: TaskStatus[] }): Promise<Listed<Task>>;
  createTask(boardId: string, input: TaskCreateInput): Promise<Task>;
  updateTask(boardId: string, taskId: string, input: TaskUpdateInput): Promise<Task>;
  /** every page, oldest first */
  listComments(boardId: string, taskId: string): Promise<Listed<TaskComment>>;
  createComment(boardId: string, taskId: string, message: string): Promise<TaskComment>;
  listFieldDefinitions(): Promise<FieldDefinition[]>;
  createFieldDefinition(input: FieldDefinitionInput): Promise<FieldDefinition>;
  updateFieldDefinition(id: string, input: Partial<Omit<FieldDefinitionInput, 'fieldKey'>>): Promise<FieldDefinition>;
  /** every page */
  /** `createdSince` (epoch ms): the caller needs no approval created before it, so paging may stop there */
  listApprovals(boardId: string, opts?: { status?: ApprovalStatus; createdSince?: number }): Promise<Listed<Approval>>;
  createApproval(boardId: string, input: ApprovalCreateInput): Promise<Approval>;
  updateApproval(boardId: string, approvalId: string, status: ApprovalStatus): Promise<Approval>;
  /** SSE; reconnects with `since` and dedupes replays itself */
  streamTasks(boardId: string, handlers: StreamHandlers<TaskStreamEvent>): StreamHandle;
  /** SSE; dedupes the server's re-sends on (id, status, resolved_at) */
  streamApprovals(boardId: string, handlers: StreamHandlers<ApprovalStreamEvent>): StreamHandle;
  /** requests made since construction, for benchmarks and the zero-write guarantee */
  readonly stats: { requests: number; writes: number };
}
