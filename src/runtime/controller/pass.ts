import pLimit from 'p-limit';
import type { MissionControlApi } from '../../clients/mission-control/api.js';
import { ExecutionError, type AppliedEntry, type PlannedEntry } from '../executor.js';
import type { Mode } from './options.js';
import type { KeyResult } from './reconcile.js';

export interface KeyReport {
  key: string;
  entries: (PlannedEntry | AppliedEntry)[];
  error?: string;
}

/** What one pass did (or, in plan mode, would do), for `once`, `plan` and the benches. */
export interface PassReport {
  keys: number;
  entries: (PlannedEntry | AppliedEntry)[];
  failures: KeyReport[];
  /** Mission Control requests and writes the pass cost */
  requests: number;
  writes: number;
}

export interface PassDeps {
  mc: Pick<MissionControlApi, 'stats'>;
  concurrency: number;
  sync(mode: Mode): Promise<unknown>;
  keys(): string[];
  reconcile(key: string, mode: Mode): Promise<KeyResult>;
}

/** One full pass: sync, then every key once (bounded concurrency, no retries); a failing key is reported, not thrown. */
export async function runPass(d: PassDeps, mode: Mode, onKeyDone?: (done: number, total: number) => void): Promise<PassReport> {
  const before = { ...d.mc.stats };
  await d.sync(mode);
  const keys = d.keys();
  const limit = pLimit(d.concurrency);
  const entries: (PlannedEntry | AppliedEntry)[] = [];
  const failures: KeyReport[] = [];
  let done = 0;
  await Promise.all(
    keys.map((key) =>
      limit(async () => {
        try {
          entries.push(...(await d.reconcile(key, mode)).entries);
        } catch (err) {
          const own = err instanceof ExecutionError ? err.entries : [];
          entries.push(...own);
          failures.push({ key, entries: own, error: (err as Error).message });
        }
        onKeyDone?.(++done, keys.length);
      }),
    ),
  );
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    keys: keys.length,
    entries,
    failures,
    requests: d.mc.stats.requests - before.requests,
    writes: d.mc.stats.writes - before.writes,
  };
}
