import { startEmbedded, type Embedded, type EmbeddedInfo } from '../src/cli/embedded.js';
import type { StreamMode } from '../src/sandbox/mission-control/sse.js';

/**
 * The bench's peers (Mission Control sandbox, Discord fake, gateway simulator) in the bench process, and
 * the small HTTP helpers the benches use to drive them exactly as a user or agent would: over HTTP.
 */
export interface Peers {
  info: EmbeddedInfo;
  mc<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

async function call<T>(url: string, method: string, headers: Record<string, string>, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  // The path only: the URL has no secret, but a body may echo one back in a future sandbox.
  if (!res.ok) throw new Error(`${method} ${new URL(url).pathname} answered ${res.status}: ${text.slice(0, 300)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function startPeers(opts: { streams?: StreamMode } = {}): Promise<Peers> {
  const embedded: Embedded = await startEmbedded({ seed: 'empty', ...(opts.streams ? { streams: opts.streams } : {}) });
  return peersOf(embedded.info, () => embedded.close());
}

/** The HTTP helpers over peers started elsewhere (a sandbox beside a real gateway, for instance). */
export function peersOf(info: EmbeddedInfo, close: () => Promise<void>): Peers {
  const auth = { authorization: `Bearer ${info.mcAuthToken}` };
  return {
    info,
    mc: (method, path, body) => call(`${info.mcApiUrl}${path}`, method, auth, body),
    control: (method, path, body) => call(`${info.controlUrl}${path}`, method, {}, body),
    close,
  };
}

export interface ServerStats {
  mc: { requests: number; writes: number };
  discord: { posts: number; created: number };
}
