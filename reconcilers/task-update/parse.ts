import { z } from 'zod';
import { plausibleCost, stableStringify } from '../../src/model/index.js';

/**
 * The TASK_UPDATE grammar (legacy-kit.md §9) with a real JSON scanner: the kit counted braces without
 * looking at strings, so a `}` inside a summary dropped the whole block. Here strings and escapes are
 * honoured, every block is parsed, and the last valid one wins.
 */

const KEYWORD = /task_update/gi;

const text = z.preprocess((v) => (v === null ? undefined : v), z.string().optional());
const numeric = z.preprocess((v) => {
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}, z.number().optional());

/** Lenient on purpose: a wrong-typed optional key is dropped, never the block (agents write loose JSON). */
const blockSchema = z.looseObject({
  taskId: z.unknown().optional(),
  task_id: z.unknown().optional(),
  status: z.unknown().optional(),
  progress: z.unknown().optional(),
  summary: z.unknown().optional(),
  error: z.unknown().optional(),
  cost: z.unknown().optional(),
  artifacts: z.unknown().optional(),
  review_reason: z.unknown().optional(),
  loop_id: z.unknown().optional(),
});

export interface TaskUpdate {
  taskId?: string;
  /** lowercase, `-` and spaces as `_`; absent when the block had none */
  status?: string;
  /** integer clamped to 0..100; absent when missing or not a number (never a silent 0) */
  progress?: number;
  summary?: string;
  error?: string;
  cost?: number;
  artifacts?: string[];
  reviewReason?: string;
  loopId?: string;
}

const str = (v: unknown): string | undefined => {
  const r = text.safeParse(typeof v === 'number' ? String(v) : v);
  const s = r.success ? r.data?.trim() : undefined;
  return s ? s : undefined;
};

export function normaliseStatus(raw: string): string {
  return raw.trim().toLowerCase().replace(/[-\s]+/g, '_');
}

/** A parsed JSON object as a TaskUpdate, or null when it is not an object. */
export function toTaskUpdate(value: unknown): TaskUpdate | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const parsed = blockSchema.safeParse(value);
  if (!parsed.success) return null;
  const b = parsed.data;
  const out: TaskUpdate = {};
  const taskId = str(b.taskId) ?? str(b.task_id);
  if (taskId) out.taskId = taskId;
  const status = str(b.status);
  if (status) out.status = normaliseStatus(status);
  const progress = numeric.safeParse(b.progress);
  if (progress.success && progress.data !== undefined) out.progress = Math.min(100, Math.max(0, Math.round(progress.data)));
  const summary = str(b.summary);
  if (summary) out.summary = summary;
  const error = str(b.error);
  if (error) out.error = error;
  const cost = plausibleCost(b.cost);
  if (cost !== null) out.cost = cost;
  if (b.artifacts !== undefined && b.artifacts !== null) {
    const list = (Array.isArray(b.artifacts) ? b.artifacts : [b.artifacts]).map(str).filter((a): a is string => Boolean(a));
    if (list.length > 0) out.artifacts = list;
  }
  const reviewReason = str(b.review_reason);
  if (reviewReason) out.reviewReason = reviewReason;
  const loopId = str(b.loop_id);
  if (loopId) out.loopId = loopId;
  return out;
}

/**
 * End index (exclusive) of the balanced JSON object starting at `start` (a `{`), or -1 when the input
 * ends first. Braces inside strings do not count; a backslash escapes the next character in a string.
 */
export function scanObject(input: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < input.length; i++) {
    const c = input[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

export interface FoundBlock {
  update: TaskUpdate;
  /** the block's JSON text as written */
  raw: string;
  /** offset of the keyword in the input */
  at: number;
}

/** Every valid TASK_UPDATE block, in order of appearance. Invalid ones are skipped. */
export function findTaskUpdates(input: string): FoundBlock[] {
  const found: FoundBlock[] = [];
  const hits = [...input.matchAll(KEYWORD)].map((m) => m.index);
  for (let h = 0; h < hits.length; h++) {
    const at = hits[h]!;
    const next = hits[h + 1] ?? input.length;
    const open = input.indexOf('{', at);
    // The object belongs to this keyword only if it starts before the next keyword.
    if (open < 0 || open >= next) continue;
    const end = scanObject(input, open);
    if (end < 0) continue;
    const raw = input.slice(open, end);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      continue;
    }
    const update = toTaskUpdate(value);
    if (update) found.push({ update, raw, at });
  }
  return found;
}

/** The block to apply: the last valid one; else the whole input when it is one JSON object (the kit's fallback). */
export function lastTaskUpdate(input: string): FoundBlock | null {
  const blocks = findTaskUpdates(input);
  if (blocks.length > 0) return blocks[blocks.length - 1]!;
  const trimmed = input.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) return null;
  try {
    const update = toTaskUpdate(JSON.parse(trimmed));
    return update ? { update, raw: trimmed, at: 0 } : null;
  } catch {
    return null;
  }
}

/** True when the block says something: a status, progress, summary, error or cost. `{}` changes nothing. */
export function isMeaningful(u: TaskUpdate): boolean {
  return u.status !== undefined || u.progress !== undefined || u.summary !== undefined || u.error !== undefined || u.cost !== undefined;
}

/** The normalised form used for the idempotency key: equal updates hash equally whatever their spelling. */
export function normalised(u: TaskUpdate): string {
  return stableStringify(u);
}
