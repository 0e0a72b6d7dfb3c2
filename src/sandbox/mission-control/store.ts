import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ActivityRow, AgentRow, ApprovalRow, BoardRow, FieldRow, GatewayRow, Organization, TaskRow } from './rows.js';
import { nowMicros, toWire } from './time.js';

/** In-memory state of the fake Mission Control (the rows are in rows.ts) and how upstream reads it. */

export * from './rows.js';

export type StoreEvent = { kind: 'activity' | 'approval'; boardId: string };

type Micros<T> = { [K in keyof T]: T[K] extends number | null ? K : never }[keyof T];

/** A row as upstream reads it: the same keys, the named timestamps as naive-UTC strings. */
function wire<T extends object>(row: T, ...times: Micros<T>[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
  for (const k of times) out[k as string] = toWire(row[k] as number | null);
  return out;
}

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
    return wire(b, 'created_at', 'updated_at');
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
    return wire(g, 'created_at', 'updated_at');
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
    const { event_type: _type, ...comment } = this.activityRead(a);
    return comment;
  }

  activityRead(a: ActivityRow): Record<string, unknown> {
    const { board_id: _board, ...read } = wire(a, 'created_at');
    return read;
  }

  fieldRead(f: FieldRow): Record<string, unknown> {
    return { ...wire(f, 'created_at', 'updated_at'), board_ids: [...f.board_ids].sort() };
  }

  approvalRead(a: ApprovalRow): Record<string, unknown> {
    return {
      ...wire(a, 'created_at', 'resolved_at'),
      task_id: a.task_ids[0] ?? null,
      task_ids: [...a.task_ids],
      task_titles: a.task_ids.map((id) => this.tasks.get(id)?.title ?? ''),
    };
  }

  pendingApprovalsCount(boardId: string): number {
    let n = 0;
    for (const a of this.approvals.values()) if (a.board_id === boardId && a.status === 'pending') n++;
    return n;
  }
}
