/** OpenClaw gateway vocabulary. Rows grow between gateway versions, so everything but the key is optional. */

export type SessionStatus = 'queued' | 'running' | 'done' | 'failed' | 'killed' | 'timeout';

export interface Session {
  key: string;
  sessionId?: string;
  agentId?: string;
  label?: string;
  status?: SessionStatus | string;
  spawnedBy?: string;
  parentSessionKey?: string;
  createdAt?: number;
  updatedAt?: number;
  lastActivityAt?: number;
  endedAt?: number;
  hasActiveRun?: boolean;
  lastRunError?: string;
  abortedLastRun?: boolean;
}

export interface ChatMessage {
  role: string;
  /** text content flattened from the gateway's content blocks */
  text: string;
  /** epoch ms */
  timestamp?: number;
}

export interface ExecApproval {
  id: string;
  sessionKey?: string;
  runId?: string;
  command?: string;
  createdAtMs?: number;
  expiresAtMs?: number;
}

export interface SessionUsage {
  key: string;
  totalCostUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  /** false while the gateway's usage cache is still refreshing */
  fresh: boolean;
}

/** The gateway prepends its own context as extra user messages; they are not the prompt. */
const INTERNAL_CONTEXT = '<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>';

/** The text the session was started with (its first user message that is not gateway context), if it has one yet. */
export function openingPrompt(history: readonly ChatMessage[]): string | null {
  const first = history.find((m) => m.role === 'user' && !m.text.trimStart().startsWith(INTERNAL_CONTEXT));
  return first ? first.text : null;
}
