import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { GatewayApi } from '../clients/gateway/api.js';
import { defaultPlannerSettings, type Session, type TaskReconciler } from '../model/index.js';
import { task } from '../../test/support/fixtures.js';
import { GatewaySource } from './gateway-source.js';
import { warmGatewayReads, type SnapshotDeps } from './snapshot.js';
import type { BoardStore } from './store.js';

const sessions: Session[] = [{ key: 'agent:main:a', status: 'running', updatedAt: 1 }, { key: 'agent:main:b', status: 'running', updatedAt: 2 }];

describe('warmGatewayReads', () => {
  it('a planner that throws in wants() for one task costs only that task: the others are read, and it never rejects', async () => {
    const read: string[] = [];
    const api: GatewayApi = {
      connect: async () => ({ protocol: 3, serverVersion: 'test', bootId: 'b', uptimeMs: 1, methods: new Set(), scopes: [] }),
      close: async () => undefined,
      hello: null,
      listSessions: async () => ({ sessions, rejected: [], requests: 1 }),
      chatHistory: async (key) => (read.push(key), []),
      listExecApprovals: async () => [],
      sessionUsage: async () => null,
      sessionUsageAll: async () => null,
    };
    const gateway = new GatewaySource(api, pino({ level: 'silent' }));
    await gateway.refresh();
    const broken = task({ id: 'broken', fields: { mc_session_key: 'agent:main:a' } });
    const fine = task({ id: 'fine', fields: { mc_session_key: 'agent:main:b' } });
    const reader: TaskReconciler = {
      scope: 'task',
      name: 'reader',
      wants: (t) => {
        if (t.id === 'broken') throw new Error('planner bug');
        return { history: [String(t.fields['mc_session_key'])] };
      },
      plan: () => ({ actions: [] }),
    };
    const board = { board: null, tasks: new Map([[broken.id, broken], [fine.id, fine]]), boundFields: new Set<string>() };
    const store = { boards: new Map([['b1', board]]), state: () => board, approvalsOf: () => [] } as unknown as BoardStore;
    const deps = { store, settings: defaultPlannerSettings(), reconcilers: [reader], global: { degraded: false, firstRunAt: {} }, gateway } as unknown as SnapshotDeps;
    await expect(warmGatewayReads(deps, Date.now())).resolves.toBe(1);
    expect(read).toEqual(['agent:main:b']);
  });
});
