/** Mission Control vocabulary, normalised at the client boundary: camelCase, epoch-ms timestamps. */

export const TASK_STATUSES = ['inbox', 'in_progress', 'review', 'done'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

export interface Board {
  id: string;
  name: string;
  gatewayId: string | null;
  requireApprovalForDone: boolean;
  requireReviewBeforeDone: boolean;
  blockStatusChangesWithPendingApproval: boolean;
  commentRequiredForReview: boolean;
  updatedAt: number;
}

export interface Task {
  id: string;
  boardId: string;
  title: string;
  description: string | null;
  status: TaskStatus;
  priority: string;
  assignedAgentId: string | null;
  /** epoch ms; set by Mission Control on entering in_progress, cleared on inbox/review */
  inProgressAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** every board-bound custom field, defaults included (upstream read semantics) */
  fields: Record<string, unknown>;
}

export interface TaskComment {
  id: string;
  taskId: string;
  message: string;
  agentId: string | null;
  createdAt: number;
}

export interface Approval {
  id: string;
  boardId: string;
  actionType: string;
  taskId: string | null;
  taskIds: string[];
  taskTitles: string[];
  payload: Record<string, unknown> | null;
  confidence: number;
  status: ApprovalStatus;
  agentId: string | null;
  createdAt: number;
  resolvedAt: number | null;
}

export const FIELD_TYPES = [
  'text',
  'text_long',
  'integer',
  'decimal',
  'boolean',
  'date',
  'date_time',
  'url',
  'json',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldDefinition {
  id: string;
  fieldKey: string;
  label: string;
  fieldType: FieldType;
  uiVisibility: 'always' | 'if_set' | 'hidden';
  required: boolean;
  defaultValue: unknown;
  description: string | null;
  boardIds: string[];
}
