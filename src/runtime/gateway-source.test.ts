import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { GatewayApi } from '../clients/gateway/api.js';
import type { Session, SessionUsage } from '../model/index.js';
import { GatewaySource } from './gateway-source.js';

const NOW = Date.UTC(2026, 11, 4, 12);
const usageOf = (key: string): SessionUsage => ({ key, totalCostUsd: 0.5, inputTokens: 10, outputTokens: 2, fresh: true });

/** A gateway answering from a fixed session list; counts what it was asked. */
function gatewayOf(sessions: Session[], opts: { batchLeavesOut?: string[]; batchFails?: boolean } = {}) {
  const calls = { one: [] as string[], all: 0 };
  const api: GatewayApi = {
    connect: async () => ({ protocol: 3, serverVersion: 'test', bootId: 'b', uptimeMs: 1, methods: new Set(), scopes: [] }),
    close: async () => undefined,
    hello: null,
    listSessions: async () => ({ sessions, rejected: [], requests: 1 }),
    chatHistory: async () => [],
    listExecApprovals: async () => [],
    sessionUsage: async (key) => (calls.one.push(key), usageOf(key)),
    sessionUsageAll: async () => {
      calls.all++;
      if (opts.batchFails) throw new Error('overloaded');
      return new Map(sessions.filter((s) => !opts.batchLeavesOut?.includes(s.key)).map((s) => [s.key, usageOf(s.key)]));
    },
  };
  return { api, calls };
}

const sessions = (n: number): Session[] => Array.from({ length: n }, (_, i) => ({ key: `agent:main:s${i}`, status: 'done', updatedAt: NOW - i }));

async function sourceOf(list: Session[], opts: Parameters<typeof gatewayOf>[1] = {}) {
  const g = gatewayOf(list, opts);
  const source = new GatewaySource(g.api, pino({ level: 'silent' }));
  await source.refresh();
  return { source, calls: g.calls };
}

describe('GatewaySource.usageMany: one answer about every session where many want theirs', () => {
  it('many wanted: one call, and the per-key reads after it find the answers', async () => {
    const list = sessions(40);
    const { source, calls } = await sourceOf(list);
    const keys = list.slice(0, 20).map((s) => s.key);
    await source.usageMany(keys, NOW);
    const got = await Promise.all(keys.map((k) => source.usage(k, NOW)));
    expect(calls).toEqual({ one: [], all: 1 });
    expect(got.map((u) => u?.key)).toEqual(keys);
  });

  it('few wanted, or a small share of many sessions: one call per key as before', async () => {
    const few = await sourceOf(sessions(40));
    await few.source.usageMany(['agent:main:s0', 'agent:main:s1'], NOW);
    expect(few.calls.all).toBe(0);
    const share = await sourceOf(sessions(400));
    await share.source.usageMany(sessions(20).map((s) => s.key), NOW);
    expect(share.calls.all).toBe(0);
  });

  it('a key the answer leaves out, or a failed answer, is read on its own', async () => {
    const list = sessions(20);
    const partial = await sourceOf(list, { batchLeavesOut: ['agent:main:s3'] });
    await partial.source.usageMany(list.map((s) => s.key), NOW);
    await Promise.all(list.map((s) => partial.source.usage(s.key, NOW)));
    expect(partial.calls).toEqual({ one: ['agent:main:s3'], all: 1 });

    const failed = await sourceOf(list, { batchFails: true });
    await failed.source.usageMany(list.map((s) => s.key), NOW);
    await Promise.all(list.map((s) => failed.source.usage(s.key, NOW)));
    expect(failed.calls.one).toHaveLength(20);
  });

  it('answers already cached at the current row version are not asked for again', async () => {
    const list = sessions(20);
    const { source, calls } = await sourceOf(list);
    await source.usageMany(list.map((s) => s.key), NOW);
    await source.usageMany(list.map((s) => s.key), NOW);
    expect(calls.all).toBe(1);
  });
});
