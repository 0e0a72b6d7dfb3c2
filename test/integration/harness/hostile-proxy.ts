import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A hostile Mission Control peer: proxies every request to the sandbox and corrupts chosen rows of
 * the task and approval LIST responses (the sandbox itself never serves malformed rows). Streams
 * and writes pass through untouched. 127.0.0.1, random port.
 */
export type Corrupt = (row: Record<string, unknown>, kind: 'task' | 'approval') => Record<string, unknown> | null;

export interface HostileProxy {
  /** the proxy's API base, to use as MC_API_URL */
  apiUrl: string;
  corrupted: number;
  close(): Promise<void>;
}

const LIST = /\/boards\/[^/]+\/(tasks|approvals)$/;

export async function startHostileProxy(targetApiUrl: string, corrupt: Corrupt): Promise<HostileProxy> {
  const target = new URL(targetApiUrl);
  const state = { corrupted: 0 };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const match = req.method === 'GET' ? LIST.exec(path) : null;
    const upstream = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (up) => {
        if (!match || !(up.headers['content-type'] ?? '').includes('application/json')) {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          let body = Buffer.concat(chunks).toString();
          try {
            const page = JSON.parse(body) as { items?: Record<string, unknown>[] };
            if (Array.isArray(page.items)) {
              const kind = match[1] === 'tasks' ? 'task' : 'approval';
              page.items = page.items.map((row) => {
                const bad = corrupt(row, kind);
                if (bad) state.corrupted++;
                return bad ?? row;
              });
              body = JSON.stringify(page);
            }
          } catch {
            // not JSON: pass through
          }
          const headers = { ...up.headers, 'content-length': String(Buffer.byteLength(body)) };
          res.writeHead(up.statusCode ?? 502, headers);
          res.end(body);
        });
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    apiUrl: `http://127.0.0.1:${port}${target.pathname}`,
    get corrupted() {
      return state.corrupted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
