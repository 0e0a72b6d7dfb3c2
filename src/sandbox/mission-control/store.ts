import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { nowMicros, toWire } from './time.js';

/**
 * In-memory state of the fake Mission Control. Rows mirror upstream tables in snake_case;
 * timestamps are epoch microseconds and become naive-UTC strings only when serialised.
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

export type StoreEvent = { kind: 'activity' | 'approval'; boardId: string };

export class Store {
  readonly organization: Organization;
  readonly userId = randomUUID();
  readonly boards = new Map<string, BoardRow>();
  readonly tasks = new Map<string, TaskRow>();
  readonly fields = new Map<string, FieldRow>();
  readonly approvals = new Map<string, ApprovalRow>();
  readonly gateways = new Map<string, GatewayRow>();
  readonly agents = new Map<string, AgentRow>();
  activity: ActivityRow[] = [];
  /** emits 'change' (StoreEvent) so SSE streams push at once instead of waiting for their poll */
  readonly events = new EventEmitter();

  constructor() {
    const now = nowMicros();
    this.organization = { id: randomUUID(), name: 'Personal', created_at: now, updated_at: now };
    this.events.setMaxListeners(0);
  }

  changed(event: StoreEvent): void {
    this.events.emit('change', event);
  }

  boardFields(boardId: string): FieldRow[] {
    return [...this.fields.values()].filter((f) => f.board_ids.includes(boardId));
  }

  recordActivity(row: Omit<ActivityRow, 'id' | 'created_at'>): ActivityRow {
    const full: ActivityRow = { ...row, id: randomUUID(), created_at: nowMicros() };
    this.activity.push(full);
    if (full.board_id) this.changed({ kind: 'activity', boardId: full.board_id });
    return full;
  }

  comments(taskId: string): ActivityRow[] {
    return this.activity.filter((a) => a.task_id === taskId && a.event_type === 'task.comment');
  }

  approvalsForTask(taskId: string): ApprovalRow[] {
    return [...this.approvals.values()].filter((a) => a.task_ids.includes(taskId));
  }

  blockedBy(task: TaskRow): string[] {
    if (task.status === 'done') return [];
    return task.depends_on_task_ids.filter((id) => this.tasks.get(id)?.status !== 'done');
  }

  boardLead(boardId: string): AgentRow | null {
    return [...this.agents.values()].find((a) => a.board_id === boardId && a.is_board_lead) ?? null;
  }

  /** Registers a gateway and provisions its main agent, as upstream's `POST /gateways` does. */
  addGateway(input: Pick<GatewayRow, 'name' | 'url' | 'token' | 'workspace_root'> & Partial<GatewayRow>): GatewayRow {
    const now = nowMicros();
    const gateway: GatewayRow = {
      allow_insecure_tls: false,
      disable_device_pairing: false,
      ...input,
      id: randomUUID(),
      organization_id: this.organization.id,
      created_at: now,
      updated_at: now,
    };
    this.gateways.set(gateway.id, gateway);
    this.addAgent({ name: `${gateway.name} Gateway Agent`, gateway_id: gateway.id, board_id: null, is_gateway_main: true });
    return gateway;
  }

  addAgent(input: Pick<AgentRow, 'name' | 'gateway_id' | 'board_id'> & Partial<AgentRow>): AgentRow {
    const now = nowMicros();
    const id = randomUUID();
    const agent: AgentRow = {
      status: 'online',
      is_board_lead: false,
      is_gateway_main: false,
      openclaw_session_id: input.is_gateway_main ? `agent:mc-gateway-${input.gateway_id}:main` : `agent:mc-${id}:main`,
      last_seen_at: now,
      ...input,
      id,
      created_at: now,
      updated_at: now,
    };
    this.agents.set(agent.id, agent);
    return agent;
  }

  // ---- wire serialisation -------------------------------------------------------------------

  boardRead(b: BoardRow): Record<string, unknown> {
    return { ...b, created_at: toWire(b.created_at), updated_at: toWire(b.updated_at) };
  }

  /** Every board-bound key appears; unset ones carry the definition's default (upstream read). */
  taskFieldValues(task: TaskRow): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const def of this.boardFields(task.board_id)) {
      out[def.field_key] = task.values.has(def.id) ? task.values.get(def.id) : (def.default_value ?? null);
    }
    return out;
  }

  taskRead(t: TaskRow): Record<string, unknown> {
    const blocked = this.blockedBy(t);
    return {
      id: t.id,
      board_id: t.board_id,
      title: t.title,
      description: t.description,
      status: t.status,
      priority: t.priority,
      due_at: t.due_at,
      assigned_agent_id: t.assigned_agent_id,
      created_by_user_id: t.created_by_user_id,
      in_progress_at: toWire(t.in_progress_at),
      created_at: toWire(t.created_at),
      updated_at: toWire(t.updated_at),
      depends_on_task_ids: [...t.depends_on_task_ids],
      blocked_by_task_ids: blocked,
      is_blocked: blocked.length > 0,
      tag_ids: [...t.tag_ids],
      tags: [],
      custom_field_values: this.taskFieldValues(t),
    };
  }

  gatewayRead(g: GatewayRow): Record<string, unknown> {
    return { ...g, created_at: toWire(g.created_at), updated_at: toWire(g.updated_at) };
  }

  agentRead(a: AgentRow): Record<string, unknown> {
    return {
      board_id: a.board_id,
      name: a.name,
      status: a.status,
      heartbeat_config: { every: '10m', target: 'last', includeReasoning: false },
      identity_profile: {
        role: a.is_gateway_main ? 'Gateway Agent' : a.is_board_lead ? 'Board Lead' : 'Agent',
        communication_style: 'direct, concise, practical',
        emoji: ':compass:',
      },
      identity_template: null,
      soul_template: null,
      id: a.id,
      gateway_id: a.gateway_id,
      is_board_lead: a.is_board_lead,
      is_gateway_main: a.is_gateway_main,
      openclaw_session_id: a.openclaw_session_id,
      last_seen_at: toWire(a.last_seen_at),
      created_at: toWire(a.created_at),
      updated_at: toWire(a.updated_at),
    };
  }

  commentRead(a: ActivityRow): Record<string, unknown> {
    return { id: a.id, message: a.message, agent_id: a.agent_id, task_id: a.task_id, created_at: toWire(a.created_at) };
  }

  activityRead(a: ActivityRow): Record<string, unknown> {
    return {
      id: a.id,
      event_type: a.event_type,
      message: a.message,
      agent_id: a.agent_id,
      task_id: a.task_id,
      created_at: toWire(a.created_at),
    };
  }

  fieldRead(f: FieldRow): Record<string, unknown> {
    return {
      id: f.id,
      organization_id: f.organization_id,
      field_key: f.field_key,
      label: f.label,
      field_type: f.field_type,
      ui_visibility: f.ui_visibility,
      validation_regex: f.validation_regex,
      description: f.description,
      required: f.required,
      default_value: f.default_value,
      board_ids: [...f.board_ids].sort(),
      created_at: toWire(f.created_at),
      updated_at: toWire(f.updated_at),
    };
  }

  approvalRead(a: ApprovalRow): Record<string, unknown> {
    return {
      id: a.id,
      board_id: a.board_id,
      action_type: a.action_type,
      task_id: a.task_ids[0] ?? null,
      task_ids: [...a.task_ids],
      task_titles: a.task_ids.map((id) => this.tasks.get(id)?.title ?? ''),
      payload: a.payload,
      confidence: a.confidence,
      rubric_scores: a.rubric_scores,
      status: a.status,
      agent_id: a.agent_id,
      created_at: toWire(a.created_at),
      resolved_at: toWire(a.resolved_at),
    };
  }

  pendingApprovalsCount(boardId: string): number {
    let n = 0;
    for (const a of this.approvals.values()) if (a.board_id === boardId && a.status === 'pending') n++;
    return n;
  }
}
