/**
 * Upstream's agent-token limiter (mission-control-api.md §2): 20 attempts per 60 s per client IP.
 * On routes open to agents a bearer that is not the local token falls through to agent auth, so
 * each wrong bearer there is an attempt, and the 21st inside a minute answers 429.
 */
export class AgentAuthLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(
    private readonly max = 20,
    private readonly windowMs = 60_000,
  ) {}

  /** Records one attempt; true when the client is over the limit. */
  exceeded(client: string, now = Date.now()): boolean {
    const recent = (this.attempts.get(client) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    this.attempts.set(client, recent);
    return recent.length > this.max;
  }
}
