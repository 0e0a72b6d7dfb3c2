import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'lossless-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import { pythonDumps } from '../../src/sandbox/mission-control/wire-json.js';
import { mcClient } from '../../src/sandbox/testing/client.js';
import { compareExchange, type Aspect, type Divergence } from './compare.js';
import { loadRecords, replayOrder } from './records.js';
import { Replayer } from './replay.js';

/**
 * The sandbox, proven against upstream: every recorded HTTP exchange of the real Mission Control
 * backend (shared/conformance/mission-control) is replayed, in recorded order, against one fresh
 * sandbox and compared (status, body shape, upstream's error texts). Each divergence must be listed
 * with its reason in allow-list.json, and each entry there must still match a divergence: the list
 * can only shrink. Missing data fails the test (nothing passes vacuously).
 */

interface Allowance {
  scenario: string;
  method: string;
  path_template: string;
  aspect: Aspect;
  where?: string;
  reason: string;
}

interface Found extends Divergence {
  scenario: string;
  method: string;
  path_template: string;
  record: string;
}

const allowList = JSON.parse(readFileSync(new URL('./allow-list.json', import.meta.url), 'utf8')) as Allowance[];
const data = loadRecords();

const covers = (a: Allowance, d: Found): boolean =>
  a.scenario === d.scenario && a.method === d.method && a.path_template === d.path_template && a.aspect === d.aspect && (a.where === undefined || a.where === d.where);

let sandbox: SandboxHandle;
beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
});
afterAll(() => sandbox?.close());

describe('Mission Control sandbox against the recorded upstream exchanges', () => {
  it('has recorded exchanges to replay', () => {
    expect(data.http.length).toBeGreaterThan(150);
    expect(data.frames.length).toBeGreaterThan(20);
    expect(allowList.every((a) => a.reason.trim().length > 20)).toBe(true);
  });

  it('answers every recorded exchange like upstream, or the difference is allow-listed with its reason', { timeout: 120_000 }, async () => {
    const replayer = new Replayer(sandbox.info, data.http, data.frames);
    const found: Found[] = [];
    const exchanges = replayOrder(data.http, data.streamOpens);
    for (const record of exchanges) {
      await replayer.standInsBefore(record.ts);
      const answer = await replayer.replay(record);
      const divergences =
        record.kind === 'stream-open'
          ? compareExchange({ status: record.response.status, body: null }, { status: answer.status, body: null })
          : compareExchange(record.response, answer);
      for (const d of divergences) {
        found.push({ ...d, scenario: record.scenario, method: record.method, path_template: record.path_template, record: `${record.file}:${record.line}` });
      }
    }
    // MC_CONFORMANCE_REPORT=<file>: every divergence as JSON, to review or to write allow-list entries from
    if (process.env.MC_CONFORMANCE_REPORT) {
      writeFileSync(process.env.MC_CONFORMANCE_REPORT, JSON.stringify({ found, standIns: replayer.standInFailures }, null, 1));
    }
    const unexpected = found.filter((d) => !allowList.some((a) => covers(a, d)));
    const stale = allowList.filter((a) => !found.some((d) => covers(a, d)));
    console.log(
      `[conformance] ${exchanges.length} exchanges replayed, ${found.length} divergences, ${found.length - unexpected.length} allow-listed ` +
        `(${allowList.length} entries), ${replayer.standInFailures.length} stand-ins refused`,
    );
    expect(unexpected, 'divergences from upstream that allow-list.json does not list').toEqual([]);
    expect(stale, 'allow-list entries that no longer match a divergence: remove them').toEqual([]);
    expect(replayer.standInFailures).toEqual([]);
  });
});

/** Reads raw SSE frames (split on the blank line) until `enough` or the time is up. */
async function rawFrames(url: string, token: string, enough: (frames: string[]) => boolean, timeoutMs: number, whileOpen: () => Promise<void>) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const frames: string[] = [];
  let headers: Headers | null = null;
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
    headers = res.headers;
    const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
    void whileOpen();
    let buffer = '';
    while (!enough(frames)) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\r\n\r\n')) >= 0) {
        frames.push(buffer.slice(0, end + 4));
        buffer = buffer.slice(end + 4);
      }
    }
  } catch (err) {
    if (!(err instanceof Error && err.name === 'AbortError')) throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return { frames, headers };
}

const dataOf = (raw: string): unknown => parse(/^data: (.*)$/m.exec(raw)?.[1] ?? 'null');
const groupOf = (event: string | null, data: unknown): string => `${event}:${(data as { type?: string } | null)?.type ?? ''}`;

describe('Mission Control sandbox streams against the recorded upstream frames', () => {
  const complete = data.frames.filter((f) => f.raw_bytes.endsWith('\r\n\r\n'));

  it('writes data lines exactly as upstream serialises them (Python separators, floats, non-ASCII kept)', () => {
    const dataFrames = complete.filter((f) => f.event !== null);
    expect(dataFrames.length).toBeGreaterThan(10);
    for (const f of dataFrames) {
      expect(f.raw_bytes).toMatch(/^event: (task|approval)\r\ndata: \{.*\}\r\n\r\n$/s);
      const line = /^data: (.*)\r$/m.exec(f.raw_bytes)?.[1] as string;
      expect(pythonDumps(parse(line))).toBe(line);
    }
  });

  it('sends frames, pings and headers shaped like upstream', { timeout: 60_000 }, async () => {
    const fresh = await startSandbox({ seed: 'empty', streams: { pollMs: 200, pingMs: 1_000 } });
    try {
      const mc = mcClient(fresh.info);
      const token = fresh.info.mcAuthToken;
      const base = `${fresh.info.mcApiUrl}${mc.board}`;
      const wanted = new Set(complete.filter((f) => f.event !== null).map((f) => groupOf(f.event, f.data)));
      const ours = new Map<string, string>();
      let sawPing = '';
      let headers: Headers | null = null;
      const collect = (frames: string[]): boolean => {
        for (const raw of frames) {
          if (raw.startsWith(':')) sawPing = raw;
          else ours.set(groupOf(/^event: (.*)\r$/m.exec(raw)?.[1] ?? null, dataOf(raw)), raw);
        }
        return sawPing !== '' && [...wanted].every((g) => ours.has(g));
      };
      const act = async (): Promise<void> => {
        await mc.patch(mc.board, { require_approval_for_done: true });
        const t = (await mc.createTask({ title: 'SSE probe task' })).body;
        await mc.patchTask(t.id, { status: 'in_progress' });
        await mc.patchTask(t.id, { title: 'SSE probe task (renamed)', comment: 'comment through PATCH' });
        await mc.post(`${mc.board}/tasks/${t.id}/comments`, { message: 'comment through POST' });
        const a = (await mc.post(`${mc.board}/approvals`, { action_type: 'probe', confidence: 50, task_id: t.id, payload: { reason: 'probe' } })).body;
        await mc.patch(`${mc.board}/approvals/${a.id}`, { status: 'approved' });
      };
      const [tasks, approvals] = await Promise.all([
        rawFrames(`${base}/tasks/stream`, token, collect, 20_000, act),
        rawFrames(`${base}/approvals/stream`, token, collect, 20_000, async () => undefined),
      ]);
      headers = tasks.headers;
      for (const f of complete.filter((x) => x.event !== null)) {
        const mine = ours.get(groupOf(f.event, f.data));
        expect(mine, `no sandbox frame like upstream's ${groupOf(f.event, f.data)}`).toBeDefined();
        expect(compareExchange({ status: 200, body: f.data }, { status: 200, body: dataOf(mine as string) })).toEqual([]);
      }
      const upstreamPing = complete.find((f) => f.event === null)?.raw_bytes as string;
      const pingFormat = /^: ping - \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}\+00:00\r\n\r\n$/;
      expect(upstreamPing).toMatch(pingFormat);
      expect(sawPing).toMatch(pingFormat);
      const open = data.streamOpens[0]?.response.headers ?? {};
      for (const name of ['content-type', 'cache-control', 'x-accel-buffering', 'connection']) {
        expect(headers?.get(name), name).toBe(open[name]);
        expect(approvals.headers?.get(name), name).toBe(open[name]);
      }
    } finally {
      await fresh.close();
    }
  });
});
