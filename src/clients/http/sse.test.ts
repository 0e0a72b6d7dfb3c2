import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';
import { openSseStream, type SseHandle, type SseMessage } from './sse.js';
import { HttpTransport } from './transport.js';

/** A real local server: streaming behaviour (chunking, idle sockets, aborts) is what is under test. */
type Handler = (req: IncomingMessage, res: ServerResponse, connection: number) => void;

let server: Server | undefined;
let dispatcher: Agent | undefined;
let handle: SseHandle | undefined;

afterEach(async () => {
  handle?.close();
  await handle?.closed;
  await dispatcher?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  dispatcher = undefined;
  handle = undefined;
});

async function serve(handler: Handler, tuning: { timeoutMs?: number; streamConnectTimeoutMs?: number } = {}): Promise<{ transport: HttpTransport; urls: string[] }> {
  const urls: string[] = [];
  server = createServer((req, res) => {
    urls.push(req.url ?? '');
    handler(req, res, urls.length);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  dispatcher = new Agent();
  const transport = new HttpTransport({ baseUrl: `http://127.0.0.1:${port}/api/v1`, dispatcher, timeoutMs: 2_000, ...tuning });
  return { transport, urls };
}

function sseHead(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const fast = { backoff: { baseMs: 20, capMs: 50 }, minDelayMs: 5 };

describe('openSseStream', () => {
  it('waits for headers held back until the first ping (a buffering proxy) longer than the request timeout', async () => {
    // headers only with the first byte, as a buffering proxy sends them on a quiet board (the ping)
    const { transport, urls } = await serve(
      (_req, res) => {
        setTimeout(() => {
          sseHead(res);
          res.write(': ping\n\n');
        }, 900);
      },
      { timeoutMs: 300, streamConnectTimeoutMs: 3_000 },
    );
    const errors: Error[] = [];
    let connected = 0;
    handle = openSseStream({ transport, path: '/stream', query: () => ({}), onMessage: () => undefined, onError: (e) => errors.push(e), onConnect: () => connected++, ...fast });
    await until(() => connected === 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(errors).toEqual([]);
    expect(urls).toHaveLength(1);
  });

  it('still gives up on headers that never come, after the stream connect timeout', async () => {
    const { transport } = await serve(() => undefined, { timeoutMs: 5_000, streamConnectTimeoutMs: 300 });
    const errors: Error[] = [];
    handle = openSseStream({ transport, path: '/stream', query: () => ({}), onMessage: () => undefined, onError: (e) => errors.push(e), ...fast });
    await until(() => errors.length > 0, 3_000);
    expect((errors[0] as HttpError).kind).toBe('timeout');
  });

  it('parses events split across chunks, reconnects after the server closes, and asks for a fresh query', async () => {
    const { transport, urls } = await serve((_req, res, n) => {
      sseHead(res);
      res.write(': ping\n\n');
      res.write(`event: task\nid: ${n}\nda`);
      setTimeout(() => res.end(`ta: {"n":${n}}\n\n`), 20);
    });
    const messages: SseMessage[] = [];
    let connection = 0;
    handle = openSseStream({
      ...fast,
      transport,
      path: '/things/stream',
      query: () => ({ since: connection++ === 0 ? undefined : `mark-${connection}` }),
      onMessage: (m) => messages.push(m),
    });
    await until(() => messages.length >= 3);
    expect(messages[0]).toEqual({ event: 'task', data: '{"n":1}', id: '1' });
    expect(urls[0]).toBe('/api/v1/things/stream');
    expect(urls[1]).toBe('/api/v1/things/stream?since=mark-2');
    expect(transport.stats.requests).toBeGreaterThanOrEqual(3);
  });

  it('reports a failed connection to onError and keeps trying', async () => {
    const { transport } = await serve((_req, res, n) => {
      if (n === 1) {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"detail":"busy"}');
        return;
      }
      sseHead(res);
      res.write('data: hello\n\n');
    });
    const errors: Error[] = [];
    const messages: SseMessage[] = [];
    handle = openSseStream({
      ...fast,
      transport,
      path: '/s',
      query: () => ({}),
      onMessage: (m) => messages.push(m),
      onError: (e) => errors.push(e),
    });
    await until(() => messages.length === 1);
    expect(messages[0]).toMatchObject({ event: 'message', data: 'hello' });
    expect(errors[0]).toBeInstanceOf(HttpError);
    expect((errors[0] as HttpError).status).toBe(503);
  });

  it('drops a connection that goes silent past the idle timeout and reconnects', async () => {
    const { transport, urls } = await serve((_req, res) => {
      sseHead(res);
      res.write(': hello\n\n'); // then silence
    });
    const errors: Error[] = [];
    handle = openSseStream({
      ...fast,
      transport,
      path: '/s',
      query: () => ({}),
      idleTimeoutMs: 150,
      onMessage: () => undefined,
      onError: (e) => errors.push(e),
    });
    await until(() => urls.length >= 2);
    expect(errors.length).toBeGreaterThanOrEqual(1);
  });

  it('survives a handler that throws', async () => {
    const { transport } = await serve((_req, res) => {
      sseHead(res);
      res.write('data: 1\n\ndata: 2\n\n');
    });
    const got: string[] = [];
    handle = openSseStream({
      ...fast,
      transport,
      path: '/s',
      query: () => ({}),
      onMessage: (m) => {
        got.push(m.data);
        if (m.data === '1') throw new Error('handler bug');
      },
    });
    await until(() => got.length === 2);
    expect(got).toEqual(['1', '2']);
  });

  it('close() ends an open connection promptly and settles `closed`', async () => {
    let open = 0;
    const { transport } = await serve((req, res) => {
      open++;
      req.on('close', () => open--);
      sseHead(res);
      res.write(': connected\n\n');
    });
    let errors = 0;
    handle = openSseStream({ ...fast, transport, path: '/s', query: () => ({}), onMessage: () => undefined, onError: () => errors++ });
    await until(() => open === 1);
    const started = Date.now();
    handle.close();
    await handle.closed;
    expect(Date.now() - started).toBeLessThan(1_000);
    await until(() => open === 0);
    expect(errors).toBe(0);
  });

  it('close() during the backoff wait stops without another connection', async () => {
    const { transport, urls } = await serve((_req, res) => {
      res.writeHead(500);
      res.end();
    });
    handle = openSseStream({
      transport,
      path: '/s',
      query: () => ({}),
      backoff: { baseMs: 60_000, capMs: 60_000 },
      minDelayMs: 30_000,
      onMessage: () => undefined,
    });
    await until(() => urls.length === 1);
    handle.close();
    await handle.closed;
    expect(urls).toHaveLength(1);
  });
});
