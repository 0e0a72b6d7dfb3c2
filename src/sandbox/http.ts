import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { stringify } from 'lossless-json';

/** Small node:http helpers shared by the sandbox servers (no framework on purpose). */

export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {}

export async function readBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > maxBytes) throw new BodyTooLargeError(`body above ${maxBytes} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * JSON.stringify, except for bodies holding a `bigint` (an integer beyond 2^53 a client sent): those are
 * written losslessly with their exact digits. The lossless writer is ~10x slower, hence only then.
 */
export function jsonText(body: unknown): string {
  try {
    return JSON.stringify(body);
  } catch (err) {
    if (err instanceof TypeError && /BigInt/i.test(err.message)) return stringify(body) ?? 'null';
    throw err;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.writableEnded) return;
  const text = jsonText(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text).toString(),
  });
  res.end(text);
}

/** Listens on host:port (0 = a free port) and resolves with the bound port. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting, drops open (keep-alive and streaming) connections, resolves when closed. */
export function stop(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export { sleepUnlessAborted as sleep } from '../clients/http/backoff.js';

/** An AbortSignal that fires when the client goes away, so stalled/slow handlers stop early. */
export function clientGone(req: IncomingMessage, res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  const abort = (): void => {
    if (!res.writableEnded) ac.abort();
  };
  req.once('close', abort);
  res.once('close', abort);
  return ac.signal;
}
