import type { Registry } from 'prom-client';
import { sendJson, serve, type RunningServer } from './serve.js';

export const DEFAULT_METRICS_ADDR = '127.0.0.1:8080';

/** Serves `/metrics` (MC_METRICS_ADDR, default 127.0.0.1:8080) from the controller's registry. */
export function startMetricsServer(opts: { addr?: string; registry: Registry }): Promise<RunningServer> {
  return serve(opts.addr ?? DEFAULT_METRICS_ADDR, async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (path !== '/metrics') {
      sendJson(res, 404, { error: 'not found', paths: ['/metrics'] });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });
      return;
    }
    const body = await opts.registry.metrics();
    res.writeHead(200, { 'content-type': opts.registry.contentType });
    res.end(body);
  });
}
