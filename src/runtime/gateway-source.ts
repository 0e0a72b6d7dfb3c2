import type { Logger } from 'pino';
import pLimit from 'p-limit';
import { openingPrompt, type ChatMessage, type ExecApproval, type GatewayView, type Session, type SessionUsage } from '../model/index.js';
import type { GatewayApi, HelloInfo } from '../clients/gateway/api.js';

/** How long a not-yet-fresh usage answer is reused (the gateway's usage cache takes ~15 s to refresh). */
const UNFRESH_TTL_MS = 15_000;
/** Reads in flight at once over the one WebSocket: enough to scan hundreds of sessions in well under a second. */
const READS_IN_FLIGHT = 32;
/** Fewer usage reads than this are cheaper one by one than one answer about every session. */
const USAGE_BATCH_MIN = 8;
/** ... and so are wanted keys fewer than 1 in this many listed sessions (the answer's size grows with all of them). */
const USAGE_BATCH_SHARE = 10;
/** sessions that appear between the list and the usage call still fit in the answer */
const USAGE_BATCH_SLACK = 50;

/**
 * A refreshing usage answer is kept briefly too: the gateway needs ~15 s to refresh, so asking again every
 * pass (one call per task on a big board) would only repeat "refreshing". No answer at all is not kept.
 */
const usageReusable =
  (now: number) =>
  (u: SessionUsage | null, at: number): boolean =>
    u !== null && (u.fresh || now - at < UNFRESH_TTL_MS);

/** What one snapshot read beyond the list: filled by its own reads, handed to planners through view(). */
export interface SessionReads {
  history: Map<string, ChatMessage[]>;
  openings: Map<string, string | null>;
  usage: Map<string, SessionUsage>;
  readErrors: Map<string, string>;
}

export const emptyReads = (): SessionReads => ({ history: new Map(), openings: new Map(), usage: new Map(), readErrors: new Map() });

/** One read of a session at one row version, shared by every reader that asks while it is valid. */
interface SharedRead<T> {
  version: string | null;
  read: Promise<T>;
  /** set once the read answered */
  value?: { v: T };
  at: number;
}

/**
 * The gateway as the loop sees it: the last full session list (all pages), exec approvals, and chat
 * history / usage fetched on demand. Reads are cached by session key + row version and shared while in
 * flight, so however many reconcilers and keys want a session's transcript in a pass (watchdog,
 * task-update, session-link for every unlinked task), the gateway is asked once per changed session.
 */
export class GatewaySource {
  private sessions = new Map<string, Session>();
  private children = new Map<string, Session[]>();
  private execApprovals: ExecApproval[] = [];
  private synced = false;
  private startedAt: number | null = null;
  private bootId: string | null = null;
  private readonly historyCache = new Map<string, SharedRead<ChatMessage[]>>();
  private readonly usageCache = new Map<string, SharedRead<SessionUsage | null>>();
  /** opening prompts found so far: a session's first message never changes, so it is never read again */
  private readonly openings = new Map<string, string>();
  private readonly warned = new Set<string>();
  private readonly limit = pLimit(READS_IN_FLIGHT);
  lastSyncAt: number | null = null;

  constructor(
    readonly api: GatewayApi,
    private readonly logger: Logger,
  ) {}

  /** Records the gateway's start from hello-ok; a new bootId means it restarted and every cache is stale. */
  onHello(hello: HelloInfo, receivedAt = Date.now()): void {
    if (hello.uptimeMs !== null) this.startedAt = receivedAt - hello.uptimeMs;
    else if (this.bootId !== hello.bootId) this.startedAt = receivedAt;
    if (this.bootId !== null && hello.bootId !== this.bootId) {
      this.historyCache.clear();
      this.usageCache.clear();
      this.openings.clear();
      this.synced = false;
    }
    this.bootId = hello.bootId;
  }

  markUnreachable(): void {
    this.synced = false;
  }

  async refresh(): Promise<{ changedKeys: string[]; requests: number }> {
    if (!this.api.hello) this.onHello(await this.api.connect());
    const listed = await this.api.listSessions();
    for (const r of listed.rejected) {
      const id = `${r.key}:${r.problem}`;
      if (!this.warned.has(id)) {
        this.warned.add(id);
        this.logger.warn({ sessionKey: r.key }, `skipped malformed session row: ${r.problem}`);
      }
    }
    let approvals: ExecApproval[] = this.execApprovals;
    let requests = listed.requests;
    try {
      approvals = await this.api.listExecApprovals();
      requests += 1;
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'exec.approval.list unavailable');
    }
    const next = new Map(listed.sessions.map((s) => [s.key, s]));
    const changed = [...next.values()]
      .filter((s) => {
        const before = this.sessions.get(s.key);
        return !before || before.updatedAt !== s.updatedAt || before.status !== s.status;
      })
      .map((s) => s.key);
    for (const key of this.sessions.keys()) if (!next.has(key)) changed.push(key);
    for (const cache of [this.historyCache, this.usageCache, this.openings]) for (const key of cache.keys()) if (!next.has(key)) cache.delete(key);
    this.sessions = next;
    this.children = new Map();
    for (const s of next.values()) {
      const parent = s.spawnedBy ?? s.parentSessionKey;
      if (parent) this.children.set(parent, [...(this.children.get(parent) ?? []), s]);
    }
    this.execApprovals = approvals;
    this.synced = true;
    this.lastSyncAt = Date.now();
    return { changedKeys: changed, requests };
  }

  /** A pushed row (sessions.changed) replaces the listed one at once, so a reconcile sees it before the next list. */
  upsert(row: Session): void {
    const before = this.sessions.get(row.key);
    if (before?.updatedAt !== undefined && row.updatedAt !== undefined && before.updatedAt > row.updatedAt) return;
    // A new session (or a new label) gets a new map: planners index the map by identity (labels).
    if (!before || before.label !== row.label) this.sessions = new Map(this.sessions);
    this.sessions.set(row.key, row);
    const parent = row.spawnedBy ?? row.parentSessionKey;
    if (parent && !before) this.children.set(parent, [...(this.children.get(parent) ?? []), row]);
    else if (parent) this.children.set(parent, (this.children.get(parent) ?? []).map((c) => (c.key === row.key ? row : c)));
  }

  session(key: string): Session | undefined {
    return this.sessions.get(key);
  }

  /** Cache version of a session's reads; null when the row has no time. Status and end time count too: a run
   * may end without moving updatedAt, and a history read while it ran must not hide its final reply. */
  private version(key: string): string | null {
    const s = this.sessions.get(key);
    const at = s?.updatedAt ?? s?.lastActivityAt;
    return at === undefined ? null : `${at}:${s?.status ?? ''}:${s?.endedAt ?? ''}`;
  }

  /**
   * The cached read of `key` at its current row version, or a new one. A read in flight is shared even
   * when the row has no time (version null); an answered one is reused only at a known version, and while
   * `reuse` accepts its value. A failed read is forgotten so the next reader retries.
   */
  private shared<T>(cache: Map<string, SharedRead<T>>, key: string, now: number, fetch: () => Promise<T>, reuse: (value: T, at: number) => boolean = () => true): Promise<T> {
    const cached = this.cached(cache, key, reuse);
    return cached ? cached.read : this.remember(cache, key, this.limit(fetch), now);
  }

  /** Caches `read` as the read of `key` at its row's current version; a failed read is forgotten. */
  private remember<T>(cache: Map<string, SharedRead<T>>, key: string, read: Promise<T>, now: number): Promise<T> {
    const entry: SharedRead<T> = { version: this.version(key), read, at: now };
    cache.set(key, entry);
    entry.read.then(
      (v) => (entry.value = { v }),
      () => {
        if (cache.get(key) === entry) cache.delete(key);
      },
    );
    return entry.read;
  }

  /** The read of `key` still valid at its row's current version (in flight, or answered and reusable). */
  private cached<T>(cache: Map<string, SharedRead<T>>, key: string, reuse: (value: T, at: number) => boolean): SharedRead<T> | undefined {
    const version = this.version(key);
    const cached = cache.get(key);
    return cached && cached.version === version && (!cached.value || (version !== null && reuse(cached.value.v, cached.at))) ? cached : undefined;
  }

  history(key: string, limit = 20): Promise<ChatMessage[]> {
    return this.shared(this.historyCache, key, Date.now(), () => this.api.chatHistory(key, limit));
  }

  /** The session's opening prompt, or null while it has none; once found it is never read again. */
  async opening(key: string): Promise<string | null> {
    const known = this.openings.get(key);
    if (known !== undefined) return known;
    const found = openingPrompt(await this.history(key));
    if (found !== null) this.openings.set(key, found);
    return found;
  }

  usage(key: string, now = Date.now()): Promise<SessionUsage | null> {
    return this.shared(this.usageCache, key, now, () => this.api.sessionUsage(key), usageReusable(now));
  }

  /**
   * Starts the usage reads of many sessions at once: when enough of them need a read, one `sessions.usage` of
   * every session replaces a call per key (the answer carries all sessions, so it pays only when a good share
   * of them is wanted). A key the answer leaves out, or all of them when it fails, is read on its own.
   */
  usageMany(keys: readonly string[], now = Date.now()): Promise<void> {
    const reusable = usageReusable(now);
    const wanted = [...new Set(keys)].filter((k) => !this.cached(this.usageCache, k, reusable));
    if (wanted.length < USAGE_BATCH_MIN || wanted.length * USAGE_BATCH_SHARE < this.sessions.size) return Promise.resolve();
    // undefined: the answer failed, and every key is read on its own
    const all: Promise<Map<string, SessionUsage> | null | undefined> = this.limit(() => this.api.sessionUsageAll(this.sessions.size + USAGE_BATCH_SLACK)).catch(
      (err: unknown) => {
        this.logger.debug({ err: (err as Error).message }, 'usage of all sessions failed; reading them one by one');
        return undefined;
      },
    );
    // In flight at once for every wanted key, so a reader asking before the answer is back shares it.
    const reads = wanted.map((key) =>
      this.remember(
        this.usageCache,
        key,
        all.then((answer) => {
          if (answer === null) return null; // no sessions.usage for us at all: per key would say the same
          const u = answer?.get(key);
          return u ?? this.limit(() => this.api.sessionUsage(key));
        }),
        now,
      ),
    );
    return Promise.allSettled(reads).then(() => undefined);
  }

  view(extra: SessionReads): GatewayView {
    return {
      synced: this.synced,
      startedAt: this.startedAt,
      sessions: this.sessions,
      children: this.children,
      execApprovals: this.execApprovals,
      history: extra.history,
      openings: extra.openings,
      usage: extra.usage,
      readErrors: extra.readErrors,
    };
  }
}
