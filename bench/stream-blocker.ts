import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Loopback HTTP proxies in front of Mission Control, forwarding everything but SSE untouched:
 * - the blocker answers every stream with an open, silent event stream, so the controller only learns
 *   of board changes through its periodic resync (the bench's "poll" mode);
 * - the tap forwards streams too and notes when each frame passed on its way to the controller, which
 *   splits a latency into the stream's share (poll period) and the controller's own share.
 */

export interface StreamProxy {
  url: string;
  close(): Promise<void>;
}

export interface StreamTap extends StreamProxy {
  /** when a frame about this task first reached the controller: `approval:<taskId>` or `task:<taskId>:<status>` */
  firstSeen(key: string): number | undefined;
}

type OnStream = (req: IncomingMessage, res: ServerResponse, forward: (onChunk: (text: string) => void) => void) => void;

async function startProxy(target: string, onStream: OnStream): Promise<StreamProxy> {
  const upstream = new URL(target);
  const open = new Set<ServerResponse>();
  const forward = (req: IncomingMessage, res: ServerResponse, onChunk?: (text: string) => void): void => {
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (onChunk) up.on('data', (d: Buffer) => onChunk(d.toString()));
      up.pipe(res);
    });
    out.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ detail: `bench proxy: ${err.message}` }));
    });
    req.pipe(out);
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!path.endsWith('/stream')) return forward(req, res);
    open.add(res);
    res.on('close', () => open.delete(res));
    onStream(req, res, (onChunk) => forward(req, res, onChunk));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    // same path prefix as the target (…/api/v1)
    url: `http://127.0.0.1:${port}${upstream.pathname.replace(/\/$/, '')}`,
    close: async () => {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function startStreamBlocker(target: string): Promise<StreamProxy> {
  return startProxy(target, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
  });
}

/** The keys a stream frame tells about (see StreamTap.firstSeen). */
function frameKeys(data: string): string[] {
  try {
    const d = JSON.parse(data) as { approval?: { task_ids?: string[] }; task?: { id?: string; status?: string } | null };
    if (d.approval) return (d.approval.task_ids ?? []).map((id) => `approval:${id}`);
    return d.task?.id ? [`task:${d.task.id}:${d.task.status}`] : [];
  } catch {
    return [];
  }
}

export async function startStreamTap(target: string): Promise<StreamTap> {
  const seen = new Map<string, number>();
  const proxy = await startProxy(target, (_req, _res, forward) => {
    let buffer = '';
    forward((text) => {
      const at = Date.now();
      buffer += text;
      let end: number;
      while ((end = buffer.indexOf('\r\n\r\n')) >= 0) {
        const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
        buffer = buffer.slice(end + 4);
        for (const key of data ? frameKeys(data) : []) if (!seen.has(key)) seen.set(key, at);
      }
    });
  });
  return { ...proxy, firstSeen: (key) => seen.get(key) };
}
