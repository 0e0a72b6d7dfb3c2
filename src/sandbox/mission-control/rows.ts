/**
 * The fake Mission Control's tables: rows mirror upstream's in snake_case; timestamps are epoch microseconds
 * and become naive-UTC strings only when serialised (store.ts).
 */

export const TASK_STATUSES = ['inbox', 'in_progress', 'review', 'done'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];
export const FIELD_TYPES = ['text', 'text_long', 'integer', 'decimal', 'boolean', 'date', 'date_time', 'url', 'json'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];
export const UI_VISIBILITIES = ['always', 'if_set', 'hidden'] as const;

export interface BoardRow {
  id: string;
  organization_id: string;
  name: string;
  slug: string;
  description: string;
  gateway_id: string | null;
  board_group_id: string | null;
  board_type: string;
  objective: string | null;
  success_metrics: Record<string, unknown> | null;
  target_date: string | null;
  goal_confirmed: boolean;
  goal_source: string | null;
  require_approval_for_done: boolean;
  require_review_before_done: boolean;
  comment_required_for_review: boolean;
  block_status_changes_with_pending_approval: boolean;
  only_lead_can_change_status: boolean;
  max_agents: number;
  created_at: number;
  updated_at: number;
}

export interface TaskRow {
  id: string;
  board_id: string;
  title: string;
  description: string | null;
  status: TaskStatus;
  priority: string;
  due_at: string | null;
  assigned_agent_id: string | null;
  created_by_user_id: string | null;
  in_progress_at: number | null;
  created_at: number;
  updated_at: number;
  depends_on_task_ids: string[];
  tag_ids: string[];
  /** stored custom-field values keyed by definition id (like upstream's value table) */
  values: Map<string, unknown>;
}

export interface FieldRow {
  id: string;
  organization_id: string;
  field_key: string;
  label: string;
  field_type: FieldType;
  ui_visibility: (typeof UI_VISIBILITIES)[number];
  validation_regex: string | null;
  description: string | null;
  required: boolean;
  default_value: unknown;
  board_ids: string[];
  created_at: number;
  updated_at: number;
}

/** Comments are activity rows of type `task.comment`, as upstream stores them. */
export interface ActivityRow {
  id: string;
  event_type: string;
  message: string | null;
  agent_id: string | null;
  task_id: string | null;
  board_id: string | null;
  created_at: number;
}

export interface ApprovalRow {
  id: string;
  board_id: string;
  action_type: string;
  task_ids: string[];
  payload: Record<string, unknown> | null;
  confidence: number;
  rubric_scores: Record<string, number> | null;
  status: ApprovalStatus;
  agent_id: string | null;
  created_at: number;
  resolved_at: number | null;
}

export interface GatewayRow {
  id: string;
  organization_id: string;
  name: string;
  url: string;
  token: string | null;
  workspace_root: string;
  allow_insecure_tls: boolean;
  disable_device_pairing: boolean;
  created_at: number;
  updated_at: number;
}

export interface AgentRow {
  id: string;
  board_id: string | null;
  gateway_id: string;
  name: string;
  status: string;
  is_board_lead: boolean;
  is_gateway_main: boolean;
  openclaw_session_id: string | null;
  last_seen_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface Organization {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
}
