import type { EmbeddedInfo } from '../../../src/cli/embedded.js';

/**
 * World state over HTTP, the way an operator would see it: tasks and custom fields from the MC list
 * endpoint, comments from the comments endpoint, Discord messages from the fake's control API.
 * The harness also drives the world (creates tasks and approvals, moves sessions, sets faults) —
 * always through the sandbox's public or control routes, never its memory.
 */

export interface TaskRow {
  id: string;
  title: string;
  status: string;
  description: string | null;
  custom_field_values: Record<string, unknown> | null;
  in_progress_at: string | null;
  updated_at: string;
}
export interface CommentRow {
  id: string;
  message: string;
  created_at: string;
}
export interface MessageRow {
  id: string;
  channel_id: string;
  content: string;
  nonce?: string | null;
  embeds?: Array<{ description?: string }>;
}
export interface ApprovalRow {
  id: string;
  task_id: string | null;
  status: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what} → ${status}: ${body.slice(0, 300)}`);
  }
}

async function call<T>(url: string, method: string, body: unknown, headers: Record<string, string>): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new HttpError(res.status, text, `${method} ${new URL(url).pathname}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export class World {
  constructor(readonly info: EmbeddedInfo) {}

  private get board(): string {
    return `${this.info.mcApiUrl}/boards/${this.info.boardId}`;
  }
  mc<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return call<T>(`${this.board}${path}`, method, body, { authorization: `Bearer ${this.info.mcAuthToken}` });
  }
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return call<T>(`${this.info.controlUrl}${path}`, method, body, {});
  }

  // --- tasks, comments, approvals (Mission Control's user routes) ---
  async createTask(t: { title: string; status?: string; description?: string; fields?: Record<string, unknown> }): Promise<TaskRow> {
    return this.mc<TaskRow>('POST', '/tasks', {
      title: t.title,
      ...(t.description !== undefined ? { description: t.description } : {}),
      ...(t.status ? { status: t.status } : {}),
      custom_field_values: t.fields ?? {},
    });
  }
  patchTask(id: string, body: Record<string, unknown>): Promise<TaskRow> {
    return this.mc<TaskRow>('PATCH', `/tasks/${id}`, body);
  }
  async tasks(): Promise<Map<string, TaskRow>> {
    const out = new Map<string, TaskRow>();
    for (let offset = 0; ; offset += 200) {
      const page = await this.mc<{ items: TaskRow[]; total: number }>('GET', `/tasks?limit=200&offset=${offset}`);
      for (const t of page.items) out.set(t.id, t);
      if (page.items.length < 200) return out;
    }
  }
  async task(id: string): Promise<TaskRow> {
    const t = (await this.tasks()).get(id);
    if (!t) throw new Error(`task ${id} not on the board`);
    return t;
  }
  async comments(taskId: string): Promise<CommentRow[]> {
    const out: CommentRow[] = [];
    for (let offset = 0; ; offset += 200) {
      const page = await this.mc<{ items: CommentRow[] }>('GET', `/tasks/${taskId}/comments?limit=200&offset=${offset}`);
      out.push(...page.items);
      if (page.items.length < 200) return out;
    }
  }
  /** Comments the controller wrote (`[mc-controller]` marker). */
  async ours(taskId: string): Promise<string[]> {
    return (await this.comments(taskId)).map((c) => c.message).filter((m) => m.startsWith('[mc-controller]'));
  }
  createApproval(taskId: string, reason: string): Promise<ApprovalRow> {
    return this.mc<ApprovalRow>('POST', '/approvals', { action_type: 'manual_override', confidence: 80, task_id: taskId, payload: { reason } });
  }
  resolveApproval(id: string, status: 'approved' | 'rejected'): Promise<ApprovalRow> {
    return this.mc<ApprovalRow>('PATCH', `/approvals/${id}`, { status });
  }
  async approvals(): Promise<ApprovalRow[]> {
    const page = await this.mc<{ items: ApprovalRow[] }>('GET', '/approvals?limit=200');
    return page.items;
  }

  // --- control API ---
  async messages(): Promise<MessageRow[]> {
    return (await this.control<{ messages: MessageRow[] }>('GET', '/discord/messages')).messages;
  }
  faults(body: Record<string, unknown>): Promise<unknown> {
    return this.control('PUT', '/faults', body);
  }
  stats(): Promise<{ mc: { requests: number; writes: number; faults: number }; discord: { posts: number; created: number; deduplicated: number; rateLimited: number } }> {
    return this.control('GET', '/stats');
  }
  backdate(taskId: string, ts: { in_progress_at?: string | null; updated_at?: string; created_at?: string }): Promise<TaskRow> {
    return this.control('PATCH', `/mc/tasks/${taskId}/timestamps`, ts);
  }

  // --- gateway simulator control ---
  session(key: string, body: Record<string, unknown>): Promise<unknown> {
    return this.control('PUT', `/sessions/${encodeURIComponent(key)}`, body);
  }
  sessionMessage(key: string, role: string, text: string): Promise<unknown> {
    return this.control('POST', `/sessions/${encodeURIComponent(key)}/messages`, { role, text });
  }
  deleteSession(key: string): Promise<unknown> {
    return this.control('DELETE', `/sessions/${encodeURIComponent(key)}`);
  }
  restartGateway(): Promise<{ bootId: string }> {
    return this.control('POST', '/gateway/restart');
  }
}

const REF_COMMENT = /\(ref:([^)\s]+)\)/;
const REF_MESSAGE = /-# ref (\S+)/;

/** Keys seen more than once: a duplicate visible effect. */
function dups(keys: string[]): string[] {
  const seen = new Map<string, number>();
  for (const k of keys) seen.set(k, (seen.get(k) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k} ×${n}`);
}

/** Controller comments written twice: same `(ref:…)` marker, or the same text without one. */
export function duplicateComments(messages: string[]): string[] {
  return dups(messages.filter((m) => m.startsWith('[mc-controller]')).map((m) => REF_COMMENT.exec(m)?.[1] ?? m));
}

export function messageRef(m: MessageRow): string | undefined {
  const text = `${m.content}\n${(m.embeds ?? []).map((e) => e.description ?? '').join('\n')}`;
  return REF_MESSAGE.exec(text)?.[1];
}

/** Discord messages posted twice (same ref line, or same content without one). */
export function duplicateMessages(messages: MessageRow[]): string[] {
  return dups(messages.map((m) => messageRef(m) ?? m.content));
}

export const isoAgo = (ms: number): string => new Date(Date.now() - ms).toISOString();
