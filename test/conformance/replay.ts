import { isLosslessNumber, parse, stringify } from 'lossless-json';
import type { SandboxInfo } from '../../src/sandbox/index.js';
import { epochMs, UUID_RE, type FrameRecord, type HttpRecord } from './records.js';

/**
 * Replays recorded exchanges against a fresh sandbox. Ids differ between the recording and the
 * sandbox, so every id a recorded answer shows is mapped to the one the sandbox answered at the
 * same place, and requests are rewritten with the map. Objects the recording shows but whose
 * creating call was dropped as a repeat (the README: at most two examples per shape) are made
 * before the first exchange that comes after their `created_at` ("stand-ins"), through the same
 * public API, so later exchanges meet them as upstream did.
 */

type Json = Record<string, unknown>;
type Kind = 'field' | 'task' | 'approval';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

const plain = (v: unknown): unknown => (isLosslessNumber(v) ? Number(v.value) : v);
const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v) && !isLosslessNumber(v);

function kindOf(o: Json): Kind | null {
  if (typeof o.id !== 'string') return null;
  if ('field_key' in o && 'board_ids' in o) return 'field';
  if ('action_type' in o && 'confidence' in o) return 'approval';
  if ('title' in o && 'status' in o && 'custom_field_values' in o) return 'task';
  return null;
}

export class Replayer {
  readonly ids = new Map<string, string>();
  readonly standInFailures: string[] = [];
  private readonly known = new Map<string, { kind: Kind; row: Json; createdMs: number }>();
  private readonly madeByRecords = new Set<string>();
  /** approvals a replayed PATCH resolves: their stand-in starts pending, as upstream's did */
  private readonly resolvedByRecords = new Set<string>();
  /** recorded gateway main agents by recorded gateway id: provisioned by `POST /gateways`, not created directly */
  private readonly mainAgents = new Map<string, string>();

  constructor(
    private readonly info: SandboxInfo,
    records: HttpRecord[],
    frames: FrameRecord[],
  ) {
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else if (isObj(v)) {
        const kind = kindOf(v);
        if (v.is_gateway_main === true && typeof v.gateway_id === 'string') this.mainAgents.set(v.gateway_id, v.id as string);
        if (kind && !this.known.has(v.id as string) && typeof v.created_at === 'string') {
          this.known.set(v.id as string, { kind, row: v, createdMs: epochMs(v.created_at) });
        }
        Object.values(v).forEach(visit);
      }
    };
    for (const r of records) {
      visit(r.response.body);
      const body = r.response.body;
      if (r.method === 'POST' && r.response.status < 300 && isObj(body) && typeof body.id === 'string') this.madeByRecords.add(body.id);
      if (r.method === 'PATCH' && r.path_template.endsWith('/approvals/{approval_id}') && r.response.status < 300 && isObj(body)) {
        this.resolvedByRecords.add(body.id as string);
      }
    }
    for (const f of frames) visit(f.data);
  }

  /** Makes the stand-ins created upstream before `ts` that no replayed exchange creates. */
  async standInsBefore(ts: string): Promise<void> {
    const cutoff = Date.parse(ts);
    const due = [...this.known.entries()]
      .filter(([id, k]) => k.createdMs < cutoff && !this.ids.has(id) && !this.madeByRecords.has(id))
      .sort(([, a], [, b]) => ['field', 'task', 'approval'].indexOf(a.kind) - ['field', 'task', 'approval'].indexOf(b.kind) || a.createdMs - b.createdMs);
    for (const [id, { kind, row }] of due) {
      const [path, body] = this.standIn(kind, row);
      const answer = await this.send('POST', `/api/v1${path}`, body, { authorization: `Bearer ${this.info.mcAuthToken}`, 'content-type': 'application/json' });
      if (answer.status === 200 && isObj(answer.body)) this.ids.set(id, answer.body.id as string);
      else {
        this.ids.set(id, id); // not retried: the exchanges that use it will show the difference
        this.standInFailures.push(`${kind} ${id}: ${answer.status} ${answer.text.slice(0, 200)}`);
      }
    }
  }

  private standIn(kind: Kind, row: Json): [string, Json] {
    const map = (v: unknown): unknown => (typeof v === 'string' ? (this.ids.get(v) ?? v) : v);
    if (kind === 'field') {
      const { field_key, label, field_type, ui_visibility, description, required, default_value } = row;
      return [
        '/organizations/me/custom-fields',
        { field_key, label, field_type, ui_visibility, description, required, default_value: plain(default_value), board_ids: (row.board_ids as string[]).map(map) },
      ];
    }
    const board = map(row.board_id) as string;
    if (kind === 'task') {
      const { title, description, status, priority } = row;
      return [`/boards/${board}/tasks`, { title, description, status, priority }];
    }
    const { action_type, payload } = row;
    const status = this.resolvedByRecords.has(row.id as string) ? 'pending' : row.status;
    return [
      `/boards/${board}/approvals`,
      { action_type, confidence: plain(row.confidence), payload, status, task_ids: (row.task_ids as string[]).map(map) },
    ];
  }

  rewrite(text: string): string {
    return text.replace(UUID_RE, (id) => this.ids.get(id) ?? id);
  }

  headersFor(record: HttpRecord): Record<string, string> {
    const h: Record<string, string> = {};
    const recorded = record.request.headers;
    if (recorded.authorization !== undefined) {
      // 401 records carried a missing or wrong token; the others the real one.
      h.authorization = record.response.status === 401 ? `Bearer ${'w'.repeat(64)}` : `Bearer ${this.info.mcAuthToken}`;
    }
    if (recorded['content-type']) h['content-type'] = recorded['content-type'];
    else if (record.request.body !== null && record.request.body !== undefined) h['content-type'] = 'application/json';
    return h;
  }

  async replay(record: HttpRecord): Promise<Answer> {
    const body = record.request.body;
    const text = body === null || body === undefined ? undefined : typeof body === 'string' ? body : (stringify(body) ?? undefined);
    const answer = await this.send(record.method, this.rewrite(record.path), text === undefined ? undefined : this.rewrite(text), this.headersFor(record), true);
    if (answer.status < 300) this.learn(record.response.body, answer.body);
    if (answer.status < 300 && record.method === 'POST' && record.path_template === '/api/v1/gateways') await this.learnMainAgent(record);
    return answer;
  }

  private async learnMainAgent(record: HttpRecord): Promise<void> {
    const recordedGateway = (record.response.body as Json).id as string;
    const recordedAgent = this.mainAgents.get(recordedGateway);
    if (!recordedAgent) return;
    const headers = { authorization: `Bearer ${this.info.mcAuthToken}` };
    const listed = await this.send('GET', `/api/v1/agents?gateway_id=${this.ids.get(recordedGateway)}`, undefined, headers);
    const main = ((listed.body as { items?: Json[] }).items ?? []).find((a) => a.is_gateway_main === true);
    if (main) this.ids.set(recordedAgent, main.id as string);
  }

  /** Maps ids found at the same place in the recorded and the sandbox answer (lists of rows excepted). */
  private learn(recorded: unknown, actual: unknown): void {
    if (!isObj(recorded) || !isObj(actual)) return;
    for (const [k, rv] of Object.entries(recorded)) {
      const av = actual[k];
      if ((k === 'id' || k.endsWith('_id')) && typeof rv === 'string' && typeof av === 'string' && !this.ids.has(rv)) this.ids.set(rv, av);
      else if (k.endsWith('_ids') && Array.isArray(rv) && Array.isArray(av) && rv.length === av.length) {
        rv.forEach((r, i) => typeof r === 'string' && !this.ids.has(r) && this.ids.set(r, av[i] as string));
      } else if (isObj(rv)) this.learn(rv, av);
    }
  }

  private async send(method: string, path: string, body: unknown, headers: Record<string, string>, raw = false): Promise<Answer> {
    const origin = new URL(this.info.mcApiUrl).origin;
    const text = raw ? (body as string | undefined) : body === undefined ? undefined : JSON.stringify(body);
    const ac = new AbortController();
    const res = await fetch(`${origin}${path}`, { method, headers, body: text, signal: ac.signal });
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      ac.abort();
      return { status: res.status, headers: res.headers, text: '', body: null };
    }
    const answer = await res.text();
    let parsed: unknown = answer;
    try {
      parsed = parse(answer);
    } catch {
      // not JSON: compared as a string
    }
    return { status: res.status, headers: res.headers, text: answer, body: parsed };
  }
}
