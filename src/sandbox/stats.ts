/** Request accounting for tests and benchmarks (read through the control API `GET /stats`). */

export interface FamilyCount {
  requests: number;
  writes: number;
}

export class RequestStats {
  requests = 0;
  writes = 0;
  /** requests answered by an injected fault instead of the handler */
  faults = 0;
  byFamily: Record<string, FamilyCount> = {};

  record(family: string, method: string): void {
    const write = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
    this.requests++;
    if (write) this.writes++;
    const bucket = (this.byFamily[family] ??= { requests: 0, writes: 0 });
    bucket.requests++;
    if (write) bucket.writes++;
  }

  reset(): void {
    this.requests = 0;
    this.writes = 0;
    this.faults = 0;
    this.byFamily = {};
  }

  view(): { requests: number; writes: number; faults: number; byFamily: Record<string, FamilyCount> } {
    return {
      requests: this.requests,
      writes: this.writes,
      faults: this.faults,
      byFamily: Object.fromEntries(Object.entries(this.byFamily).map(([k, v]) => [k, { ...v }])),
    };
  }
}
