import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isLosslessNumber, parse, type LosslessNumber } from 'lossless-json';

/**
 * The recorded upstream exchanges (shared/conformance/mission-control, README there). Lines are
 * parsed losslessly so `50.0` (a Python float) and `50` (an int) stay different, as on the wire.
 */

export interface HttpRecord {
  file: string;
  line: number;
  source: string;
  scenario: string;
  ts: string;
  method: string;
  path: string;
  path_template: string;
  kind?: string;
  request: { headers: Record<string, string>; body: unknown };
  response: { status: number; headers: Record<string, string>; body: unknown };
}

export interface FrameRecord {
  scenario?: string;
  source: string;
  stream: string;
  ts: string;
  event: string | null;
  comment: string | null;
  data: unknown;
  raw_bytes: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** `MC_CONFORMANCE_DIR`, else `../shared/conformance/mission-control` beside the repository. */
export function conformanceDir(): string {
  return process.env.MC_CONFORMANCE_DIR ?? resolve(here, '../../../shared/conformance/mission-control');
}

/** Every HTTP exchange and stream open, in the order upstream handled them. */
export function replayOrder(http: HttpRecord[], streamOpens: HttpRecord[]): HttpRecord[] {
  const all = [...http, ...streamOpens].sort((a, b) => a.ts.localeCompare(b.ts));
  orderConcurrentPairs(all);
  return all;
}

export function loadRecords(dir = conformanceDir()): { http: HttpRecord[]; frames: FrameRecord[]; streamOpens: HttpRecord[] } {
  if (!existsSync(dir)) throw new Error(`conformance data not found at ${dir} (set MC_CONFORMANCE_DIR)`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  if (files.length === 0) throw new Error(`no .jsonl records in ${dir}`);
  const http: HttpRecord[] = [];
  const frames: FrameRecord[] = [];
  const streamOpens: HttpRecord[] = [];
  for (const file of files.sort()) {
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .forEach((text, i) => {
        if (!text.trim()) return;
        const row = parse(text) as Record<string, unknown>;
        if (row.kind === 'frame') frames.push(row as unknown as FrameRecord);
        else if (row.kind === 'stream-open') streamOpens.push(httpRecord(row, file, i + 1));
        else if (row.kind === undefined && row.response) http.push(httpRecord(row, file, i + 1));
      });
  }
  http.sort((a, b) => a.ts.localeCompare(b.ts));
  return { http, frames, streamOpens };
}

function httpRecord(row: Record<string, unknown>, file: string, line: number): HttpRecord {
  const rec = row as unknown as HttpRecord;
  return { ...rec, file, line, response: { ...rec.response, status: Number(rec.response.status) } };
}

/**
 * Two identical requests sent at once (the `cf-create-race` probe) reach the proxy in either order;
 * the one upstream answered 2xx is the one it handled first, so it is replayed first.
 */
function orderConcurrentPairs(records: HttpRecord[]): void {
  for (let i = 0; i + 1 < records.length; i++) {
    const [a, b] = [records[i] as HttpRecord, records[i + 1] as HttpRecord];
    const concurrent = a.scenario === b.scenario && a.method === b.method && a.path === b.path && Math.abs(Date.parse(a.ts) - Date.parse(b.ts)) < 20;
    if (concurrent && a.response.status >= 300 && b.response.status < 300) [records[i], records[i + 1]] = [b, a];
  }
}

export type Shape = 'null' | 'boolean' | 'integer' | 'float' | 'string' | 'array' | 'object';

export function shapeOf(value: unknown): Shape {
  if (value === null || value === undefined) return 'null';
  if (isLosslessNumber(value)) return /[.eE]/.test((value as LosslessNumber).value) ? 'float' : 'integer';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  return Array.isArray(value) ? 'array' : 'object';
}

export const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Naive upstream timestamps are UTC. */
export function epochMs(naive: string): number {
  return Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(naive) ? naive : `${naive}Z`);
}
