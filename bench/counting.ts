import type { GatewayApi, GatewayClient } from '../src/clients/gateway/index.js';

/** Counts gateway round trips per method (the client reports its own pages for sessions.list). */
export function countingGateway(api: GatewayClient): { api: GatewayApi; count: () => number; byMethod: Record<string, number> } {
  let n = 0;
  const byMethod: Record<string, number> = {};
  const hit = (m: string, k = 1) => {
    n += k;
    byMethod[m] = (byMethod[m] ?? 0) + k;
  };
  const wrapped: GatewayApi = {
    connect: () => api.connect(),
    close: () => api.close(),
    get hello() {
      return api.hello;
    },
    listSessions: async () => {
      const r = await api.listSessions();
      hit('sessions.list', r.requests);
      return r;
    },
    chatHistory: (k, limit) => (hit('chat.history'), api.chatHistory(k, limit)),
    listExecApprovals: () => (hit('exec.approval.list'), api.listExecApprovals()),
    sessionUsage: (k) => (hit('sessions.usage'), api.sessionUsage(k)),
  };
  return { api: wrapped, count: () => n, byMethod };
}
