import { fileURLToPath } from 'node:url';
import { bootstrapFields, createTask, inParallel, listAllTasks, putSession, type TaskRow } from './board.js';
import { controllerEnv, scratchDir, startNode } from './child.js';
import { percentile } from './percentile.js';
import { startPeers, type Peers } from './peers.js';
import type { StreamMode } from '../src/sandbox/mission-control/sse.js';
import { startStreamBlocker, startStreamTap, type StreamTap } from './stream-blocker.js';

export type LatencyEvent = 'approval-to-discord' | 'done-to-delivered' | 'idle-to-stalled' | 'session-end-to-review';
export const LATENCY_EVENTS: readonly LatencyEvent[] = ['approval-to-discord', 'done-to-delivered', 'idle-to-stalled', 'session-end-to-review'];
export type LatencyMode = 'sse' | 'poll';

export interface LatencyResult {
  bench: 'latency';
  event: LatencyEvent;
  mode: LatencyMode;
  /** the sandbox's stream timing: `upstream` (poll every 2 s, what users of the real backend see) or `instant` */
  peerTiming: StreamMode;
  n: number;
  p50Ms: number;
  p95Ms: number;
  /**
   * The controller's own share: the stream frame reaching the controller → the reaction landing at the peer
   * (Discord's own message time), sse mode, stream-driven events only.
   */
  overheadP50Ms: number | null;
  overheadP95Ms: number | null;
  detail: { maxMs: number; missed: number; resyncSeconds: number };
}

/** Gap between two events: the controller sees them one by one, not as a burst. */
const SPACING_MS = 250;
/** Poll period of the bench's own observers (Discord fake, task list). */
const DISCORD_POLL_MS = 20;
const TASK_POLL_MS = 50;
/** After the last event, how long a missing reaction is waited for before it counts as missed. */
const GRACE_MS = 15_000;
const RESYNC_SECONDS: Record<LatencyMode, number> = { sse: 300, poll: 2 };
/** Time between setting up the idle sessions and their first threshold crossing (controller start-up fits in it). */
const STALL_LEAD_MS = 10_000;
const STALL_SPACING_MS = 100;
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Observed {
  /** task id → when the reaction was first seen (epoch ms) */
  seen: Map<string, number>;
}

/** Polls `probe` until every id has a reaction or the deadline passes. */
async function observe(ids: readonly string[], probe: (seen: Map<string, number>) => Promise<void>, periodMs: number, deadline: () => number): Promise<Observed> {
  const seen = new Map<string, number>();
  while (seen.size < ids.length && Date.now() < deadline()) {
    await probe(seen);
    await sleep(periodMs);
  }
  return { seen };
}

function discordProbe(peers: Peers, header: string): (seen: Map<string, number>) => Promise<void> {
  return async (seen) => {
    const { messages } = await peers.control<{ messages: { content: string; timestamp: string }[] }>('GET', '/discord/messages');
    for (const m of messages) {
      if (!m.content.startsWith(header)) continue;
      const id = /Task ID: (\S+)/.exec(m.content)?.[1];
      // the time Discord took the message, not when this poll saw it: the poll period is not the controller's
      if (id && !seen.has(id)) seen.set(id, Date.parse(m.timestamp));
    }
  };
}

function taskProbe(peers: Peers, ids: readonly string[], reacted: (t: TaskRow) => boolean): (seen: Map<string, number>) => Promise<void> {
  const want = new Set(ids);
  return async (seen) => {
    const rows = await listAllTasks(peers);
    const at = Date.now();
    for (const t of rows) if (want.has(t.id) && !seen.has(t.id) && reacted(t)) seen.set(t.id, at);
  };
}

function summarise(
  event: LatencyEvent,
  run: { mode: LatencyMode; streams: StreamMode },
  starts: Map<string, number>,
  seen: Map<string, number>,
  arrived?: (taskId: string) => number | undefined,
): LatencyResult {
  const sample = [...starts].filter(([id]) => seen.has(id)).map(([id, t0]) => Math.max(0, seen.get(id)! - t0));
  const own = arrived ? [...seen].flatMap(([id, t]) => (arrived(id) === undefined ? [] : [Math.max(0, t - arrived(id)!)])) : [];
  return {
    bench: 'latency',
    event,
    mode: run.mode,
    peerTiming: run.streams,
    n: sample.length,
    p50Ms: Math.round(percentile(sample, 50)),
    p95Ms: Math.round(percentile(sample, 95)),
    overheadP50Ms: own.length > 0 ? Math.round(percentile(own, 50)) : null,
    overheadP95Ms: own.length > 0 ? Math.round(percentile(own, 95)) : null,
    detail: { maxMs: Math.round(Math.max(...sample)), missed: starts.size - sample.length, resyncSeconds: RESYNC_SECONDS[run.mode] },
  };
}

/** Fires `fire(task)` for each task, SPACING_MS apart, recording when each event was sent. */
async function fireEach(tasks: readonly TaskRow[], fire: (t: TaskRow) => Promise<unknown>, starts: Map<string, number>): Promise<void> {
  for (const t of tasks) {
    starts.set(t.id, Date.now());
    await fire(t);
    await sleep(SPACING_MS);
  }
}

/**
 * All latencies for one mode against a fresh sandbox (stream timing `streams`) and a real
 * `mc-controller run` child. In sse mode the controller reads Mission Control through a tap that notes
 * when each stream frame reached it, so stream-driven events also report the controller's own share.
 * idle-to-stalled: sessions whose last activity is set so the 1-minute threshold is crossed at known
 * idle-to-stalled: sessions whose last activity is set so the 1-minute threshold is crossed at known
 * times after the controller is up; latency = first sight of mc_last_error=stalled − crossing time.
 */
export async function latencyBench(mode: LatencyMode, kinds: readonly LatencyEvent[], n: number, streams: StreamMode = 'upstream'): Promise<LatencyResult[]> {
  const peers = await startPeers({ streams });
  const scratch = scratchDir();
  const run = { mode, streams };
  const tap: StreamTap | null = mode === 'sse' ? await startStreamTap(peers.info.mcApiUrl) : null;
  const proxy = tap ?? (await startStreamBlocker(peers.info.mcApiUrl));
  let controller: Awaited<ReturnType<typeof startNode>> | null = null;
  const results: LatencyResult[] = [];
  try {
    await bootstrapFields(peers);
    await peers.mc('PATCH', `/boards/${peers.info.boardId}`, { require_approval_for_done: false });
    const make = (prefix: string, status: string, fields?: (i: number) => Record<string, unknown>) =>
      inParallel(Array.from({ length: n }, (_, i) => i), (i) => createTask(peers, { title: `${prefix} ${i}`, status, ...(fields ? { fields: fields(i) } : {}) }), 8);

    const approvalTasks = kinds.includes('approval-to-discord') ? await make('Approval bench task', 'inbox') : [];
    const deliveryTasks = kinds.includes('done-to-delivered') ? await make('Delivery bench task', 'inbox') : [];
    // Sessions first, so the controller's first sync sees them (see docs/performance.md on session freshness).
    const firstCrossing = Date.now() + STALL_LEAD_MS;
    const crossing = (i: number) => firstCrossing + i * STALL_SPACING_MS;
    const stallKey = (i: number) => `agent:bench:subagent:idle-${i}`;
    let stallTasks: TaskRow[] = [];
    if (kinds.includes('idle-to-stalled')) {
      await inParallel(Array.from({ length: n }, (_, i) => i), (i) => putSession(peers, stallKey(i), crossing(i) - 60_000), 8);
      stallTasks = await make('Idle bench task', 'in_progress', (i) => ({ mc_session_key: stallKey(i) }));
    }
    const endKey = (i: number) => `agent:bench:subagent:end-${i}`;
    let endTasks: TaskRow[] = [];
    if (kinds.includes('session-end-to-review')) {
      await inParallel(Array.from({ length: n }, (_, i) => i), (i) => putSession(peers, endKey(i), Date.now()), 8);
      endTasks = await make('Session-end bench task', 'in_progress', (i) => ({ mc_session_key: endKey(i) }));
    }

    const env = controllerEnv(peers.info, {
      MC_API_URL: proxy.url,
      MC_RESYNC_SECONDS: String(RESYNC_SECONDS[mode]),
      MC_STALLED_MINUTES: '1',
      MC_LOG_LEVEL: 'info',
      MC_STATE_DIR: `${scratch.dir}/state`,
    });
    controller = await startNode(CLI, ['run'], env, scratch.dir, 'mc-controller running', 60_000);

    if (stallTasks.length > 0) {
      if (Date.now() > firstCrossing - 1000) throw new Error('the controller took longer to start than the idle bench lead time; raise STALL_LEAD_MS');
      const starts = new Map(stallTasks.map((t, i) => [t.id, crossing(i)]));
      const ids = stallTasks.map((t) => t.id);
      const { seen } = await observe(
        ids,
        taskProbe(peers, ids, (t) => t.custom_field_values?.['mc_last_error'] === 'stalled'),
        TASK_POLL_MS,
        () => crossing(n - 1) + GRACE_MS,
      );
      results.push(summarise('idle-to-stalled', run, starts, seen));
    }

    if (endTasks.length > 0) {
      // A finished run: the gateway pushes sessions.changed; the task should leave in_progress for review.
      const keyOf = new Map(endTasks.map((t, i) => [t.id, endKey(i)]));
      const starts = new Map<string, number>();
      let last = Number.POSITIVE_INFINITY;
      const ids = endTasks.map((t) => t.id);
      const watching = observe(ids, taskProbe(peers, ids, (t) => t.status === 'review' || t.status === 'done'), TASK_POLL_MS, () => last + GRACE_MS);
      await fireEach(endTasks, (t) => peers.control('PUT', `/sessions/${encodeURIComponent(keyOf.get(t.id)!)}`, { status: 'done' }), starts);
      last = Date.now();
      results.push(summarise('session-end-to-review', run, starts, (await watching).seen));
    }
    if (approvalTasks.length > 0) {
      const starts = new Map<string, number>();
      let last = Number.POSITIVE_INFINITY;
      const watching = observe(approvalTasks.map((t) => t.id), discordProbe(peers, '🔔'), DISCORD_POLL_MS, () => last + GRACE_MS);
      await fireEach(
        approvalTasks,
        (t) => peers.mc('POST', `/boards/${peers.info.boardId}/approvals`, { action_type: 'bench.approve', confidence: 80, task_id: t.id, payload: { reason: `bench approval for ${t.title}` } }),
        starts,
      );
      last = Date.now();
      results.push(summarise('approval-to-discord', run, starts, (await watching).seen, tap ? (id) => tap.firstSeen(`approval:${id}`) : undefined));
    }

    if (deliveryTasks.length > 0) {
      const starts = new Map<string, number>();
      let last = Number.POSITIVE_INFINITY;
      const watching = observe(deliveryTasks.map((t) => t.id), discordProbe(peers, '[Mission Control] Entrega'), DISCORD_POLL_MS, () => last + GRACE_MS);
      await fireEach(
        deliveryTasks,
        (t) => peers.mc('PATCH', `/boards/${peers.info.boardId}/tasks/${t.id}`, { status: 'done', custom_field_values: { mc_output_summary: `Bench result of ${t.title}` } }),
        starts,
      );
      last = Date.now();
      results.push(summarise('done-to-delivered', run, starts, (await watching).seen, tap ? (id) => tap.firstSeen(`task:${id}:done`) : undefined));
    }
    return results;
  } finally {
    await controller?.stop();
    await proxy.close();
    scratch.remove();
    await peers.close();
  }
}
