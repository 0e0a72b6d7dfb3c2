import { randomUUID } from 'node:crypto';
import type { ActivityRow, BoardRow, FieldRow, FieldType, Store, TaskRow, TaskStatus } from './store.js';
import { nowMicros } from './time.js';

/**
 * Seeds. `empty`: one board with a gateway id (so PATCH /boards works), nothing else.
 * `demo`: the legacy kit's 14 custom fields (legacy-kit.md §6, without `mc_conditions`, which
 * bootstrap adds) and a handful of tasks that give a newcomer something to watch.
 */

export type Seed = 'demo' | 'empty';

const MINUTE = 60_000_000; // microseconds

export const KIT_FIELDS: Array<{ key: string; type: FieldType; default: unknown }> = [
  { key: 'mc_session_key', type: 'text', default: null },
  { key: 'mc_retry_count', type: 'integer', default: 0 },
  { key: 'mc_progress', type: 'integer', default: 0 },
  { key: 'mc_delivered', type: 'boolean', default: false },
  { key: 'mc_output_summary', type: 'text_long', default: null },
  { key: 'mc_approval_notified', type: 'boolean', default: false },
  { key: 'mc_estimated_cost_usd', type: 'decimal', default: 0 },
  { key: 'mc_actual_cost_usd', type: 'decimal', default: 0 },
  { key: 'mc_last_error', type: 'text_long', default: null },
  { key: 'mc_risk_profile', type: 'text', default: 'medium' },
  { key: 'mc_review_depth', type: 'integer', default: 2 },
  { key: 'mc_signature_required', type: 'boolean', default: false },
  { key: 'mc_rejection_feedback', type: 'text_long', default: null },
  { key: 'mc_authorization_status', type: 'text', default: null },
];

function addBoard(store: Store, name: string, now: number): BoardRow {
  const board: BoardRow = {
    id: randomUUID(),
    organization_id: store.organization.id,
    name,
    slug: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    description: 'Sandbox board served by mc-controller',
    // a registered gateway with its main agent: upstream's prerequisite for board updates
    gateway_id: store.addGateway({ name: `${name} gateway`, url: 'ws://127.0.0.1:18789', token: null, workspace_root: '/srv/openclaw/workspace' }).id,
    board_group_id: null,
    board_type: 'goal',
    objective: null,
    success_metrics: null,
    target_date: null,
    goal_confirmed: false,
    goal_source: null,
    require_approval_for_done: true,
    require_review_before_done: false,
    comment_required_for_review: false,
    block_status_changes_with_pending_approval: false,
    only_lead_can_change_status: false,
    max_agents: 1,
    created_at: now,
    updated_at: now,
  };
  store.boards.set(board.id, board);
  return board;
}

interface DemoTask {
  title: string;
  description: string;
  status: TaskStatus;
  priority?: string;
  ageMinutes: number;
  inProgressMinutesAgo?: number;
  values?: Record<string, unknown>;
  comments?: string[];
  pendingApprovalReason?: string;
}

const DEMO_TASKS: DemoTask[] = [
  { title: 'Draft the weekly status digest', description: 'Collect merged work and open risks for the weekly digest.', status: 'inbox', ageMinutes: 180 },
  { title: 'Triage new bug reports', description: 'Label and prioritise the bug reports filed since Monday.', status: 'inbox', priority: 'high', ageMinutes: 170 },
  {
    title: 'Refactor the billing export',
    description: 'Split the export job into extract and upload steps.',
    status: 'in_progress',
    ageMinutes: 150,
    inProgressMinutesAgo: 5,
    values: { mc_session_key: 'agent:luan:subagent:demo-billing-export', mc_progress: 40, mc_estimated_cost_usd: 1.5 },
    comments: ['sessionKey=agent:luan:subagent:demo-billing-export'],
  },
  {
    title: 'Summarise customer interviews',
    description: 'Spawned an hour ago, but no session was ever linked.',
    status: 'in_progress',
    ageMinutes: 120,
    inProgressMinutesAgo: 60,
    values: { mc_progress: 0 },
  },
  {
    title: 'Benchmark the search index',
    description: 'Measure p95 latency of the new search index.',
    status: 'done',
    ageMinutes: 110,
    values: { mc_progress: 100, mc_output_summary: 'p95 latency 42 ms on 1M documents (was 180 ms).', mc_actual_cost_usd: 0.85 },
  },
  {
    title: 'Translate the onboarding guide',
    description: 'Portuguese version of the onboarding guide.',
    status: 'done',
    ageMinutes: 100,
    values: { mc_progress: 100 },
    comments: ['[TASK_UPDATE] taskId=demo status=done progress=100', 'summary=Guide translated to Portuguese; 14 pages, glossary attached.'],
  },
  {
    title: 'Rotate the production API keys',
    description: 'Rotate keys for the payment provider; needs a human decision.',
    status: 'review',
    priority: 'high',
    ageMinutes: 90,
    values: { mc_risk_profile: 'high', mc_signature_required: true },
    pendingApprovalReason: 'Key rotation touches production payments; a human must confirm the window.',
  },
  {
    title: 'Publish the release notes',
    description: 'Already finished and delivered to Discord.',
    status: 'done',
    ageMinutes: 80,
    values: { mc_progress: 100, mc_delivered: true, mc_output_summary: 'Release notes for v2.3 published.' },
  },
];

function addDemo(store: Store, board: BoardRow, now: number): void {
  const defs = new Map<string, FieldRow>();
  for (const [i, f] of KIT_FIELDS.entries()) {
    const row: FieldRow = {
      id: randomUUID(),
      organization_id: store.organization.id,
      field_key: f.key,
      label: f.key,
      field_type: f.type,
      ui_visibility: 'if_set',
      validation_regex: null,
      description: null,
      required: false,
      default_value: f.default,
      board_ids: [board.id],
      created_at: now - 240 * MINUTE + i,
      updated_at: now - 240 * MINUTE + i,
    };
    store.fields.set(row.id, row);
    defs.set(f.key, row);
  }
  for (const spec of DEMO_TASKS) {
    const created = now - spec.ageMinutes * MINUTE;
    const task: TaskRow = {
      id: randomUUID(),
      board_id: board.id,
      title: spec.title,
      description: spec.description,
      status: spec.status,
      priority: spec.priority ?? 'medium',
      due_at: null,
      assigned_agent_id: null,
      created_by_user_id: store.userId,
      in_progress_at: spec.inProgressMinutesAgo === undefined ? null : now - spec.inProgressMinutesAgo * MINUTE,
      created_at: created,
      updated_at: spec.inProgressMinutesAgo === undefined ? created + MINUTE : now - spec.inProgressMinutesAgo * MINUTE,
      depends_on_task_ids: [],
      tag_ids: [],
      values: new Map(),
    };
    // Like an upstream create: every bound field stores its effective value.
    for (const def of defs.values()) {
      const value = spec.values && def.field_key in spec.values ? spec.values[def.field_key] : def.default_value;
      if (value !== null && value !== undefined) task.values.set(def.id, value);
    }
    store.tasks.set(task.id, task);
    const activity = (event_type: string, message: string, at: number): ActivityRow => ({
      id: randomUUID(),
      event_type,
      message,
      agent_id: null,
      task_id: task.id,
      board_id: board.id,
      created_at: at,
    });
    store.activity.push(activity('task.created', `Task created: ${task.title}.`, created));
    (spec.comments ?? []).forEach((message, i) => store.activity.push(activity('task.comment', message, created + (i + 2) * MINUTE)));
    if (spec.pendingApprovalReason) {
      const id = randomUUID();
      store.approvals.set(id, {
        id,
        board_id: board.id,
        action_type: 'manual_override',
        task_ids: [task.id],
        payload: { reason: spec.pendingApprovalReason },
        confidence: 80,
        rubric_scores: null,
        status: 'pending',
        agent_id: null,
        created_at: created + 5 * MINUTE,
        resolved_at: null,
      });
    }
  }
  store.activity.sort((a, b) => a.created_at - b.created_at);
}

/** Returns the id of the board the sandbox advertises. */
export function seedStore(store: Store, seed: Seed): string {
  const now = nowMicros();
  const board = addBoard(store, seed === 'demo' ? 'Demo board' : 'Sandbox board', now - 300 * MINUTE);
  if (seed === 'demo') addDemo(store, board, now);
  return board.id;
}
