/**
 * `/healthz` answers "is the loop alive" from a heartbeat the loop bumps (cheap, no I/O);
 * `/readyz` asks the caller's readiness function (`src/runtime/readiness.ts`) and reports every check plus
 * leader/standby.
 */
import { sendJson, serve, type RunningServer } from './serve.js';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: ReadinessCheck[];
  role: 'leader' | 'standby';
}

export interface ProbeServerOptions {
  /** MC_PROBE_ADDR, default 127.0.0.1:8081 */
  addr?: string;
  /** epoch ms of the loop's last heartbeat */
  heartbeat: () => number;
  /** heartbeat older than this → /healthz 503 */
  maxHeartbeatAgeMs: number;
  /** what the process is doing while it starts (e.g. waiting for a peer), shown in /healthz; ok false → 503 */
  startup?: () => { ok: boolean; phase: string; detail?: string };
  readiness: () => ReadinessReport | Promise<ReadinessReport>;
  now?: () => number;
}

export const DEFAULT_PROBE_ADDR = '127.0.0.1:8081';

export function startProbeServer(opts: ProbeServerOptions): Promise<RunningServer> {
  const now = opts.now ?? Date.now;
  return serve(opts.addr ?? DEFAULT_PROBE_ADDR, async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://probe').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      const ageMs = Math.max(0, now() - opts.heartbeat());
      const startup = opts.startup?.();
      const ok = ageMs <= opts.maxHeartbeatAgeMs && (startup?.ok ?? true);
      sendJson(res, ok ? 200 : 503, {
        ok,
        heartbeatAgeSeconds: Math.round(ageMs / 100) / 10,
        ...(startup ? { phase: startup.phase, ...(startup.detail ? { detail: startup.detail } : {}) } : {}),
      });
      return;
    }
    if (path === '/readyz') {
      let report: ReadinessReport;
      try {
        report = await opts.readiness();
      } catch (err) {
        report = { ready: false, role: 'standby', checks: [{ name: 'readiness', ok: false, detail: (err as Error).message }] };
      }
      sendJson(res, report.ready ? 200 : 503, report);
      return;
    }
    sendJson(res, 404, { error: 'not found', paths: ['/healthz', '/readyz'] });
  });
}
