import type { ChatMessage, ExecApproval, Session, SessionUsage } from '../../model/index.js';

export interface HelloInfo {
  protocol: number;
  serverVersion: string | null;
  bootId: string | null;
  /** gateway uptime at hello time; start = now - uptime */
  uptimeMs: number | null;
  methods: ReadonlySet<string>;
  scopes: readonly string[];
}

export interface GatewayEvents {
  /** a session row changed (sessions.changed, with the new row when it parsed) or a chat event mentioned it */
  onSessionChanged?(sessionKey: string, row?: Session): void;
  /** a (re)connect completed; bootChanged = the gateway restarted since the last hello */
  onHello?(hello: HelloInfo, bootChanged: boolean): void;
  onDisconnect?(error: Error | null): void;
  onExecApproval?(approval: ExecApproval, resolved: boolean): void;
}

export interface GatewayApi {
  connect(): Promise<HelloInfo>;
  close(): Promise<void>;
  readonly hello: HelloInfo | null;
  /** every page (limit/offset/hasMore) */
  listSessions(): Promise<{ sessions: Session[]; rejected: { key: string | null; problem: string }[]; requests: number }>;
  chatHistory(sessionKey: string, limit: number): Promise<ChatMessage[]>;
  listExecApprovals(): Promise<ExecApproval[]>;
  sessionUsage(sessionKey: string): Promise<SessionUsage | null>;
  /** every session's usage in one call (up to `limit`); null when the gateway has no sessions.usage */
  sessionUsageAll(limit: number): Promise<Map<string, SessionUsage> | null>;
}
