import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import writeFileAtomic from 'write-file-atomic';
import type { z } from 'zod';
import { fsyncDirectory } from './fsync.js';

/** What reading a state file found. */
export type StateRead<T> =
  | { kind: 'missing' }
  | { kind: 'ok'; value: T }
  /** unreadable or not what the schema expects; `keptAs` is where it goes before the next write */
  | { kind: 'corrupt'; reason: string; keptAs: string };

/** The I/O of one JSON state file; small on purpose so a dry-run door can wrap it. */
export interface StateFile {
  readonly path: string;
  read<T>(schema: z.ZodType<T>): StateRead<T>;
  write(value: unknown): void;
}

/** `2026-12-04T17-39-12-345Z`: sortable and free of characters some file systems refuse. */
const stamp = (at: number): string => new Date(at).toISOString().replace(/[:.]/g, '-');

/**
 * A JSON state file written atomically and durably (write-file-atomic: temp file, fsync, rename; then the
 * directory is synced), so a crash or power loss leaves either the old or the new content, never a torn one.
 * A file that does not parse is never silently reset: it is logged as corrupt and moved aside as
 * `<path>.corrupt-<time>` right before the first write that would replace it (a dry run writes nothing, so
 * it leaves the file where it is).
 */
export class JsonStateFile implements StateFile {
  private corruptKeptAs: string | null = null;

  constructor(
    readonly path: string,
    private readonly opts: { logger?: Logger | undefined; now?: () => number } = {},
  ) {}

  read<T>(schema: z.ZodType<T>): StateRead<T> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
      throw err;
    }
    let reason: string;
    try {
      const parsed = schema.safeParse(JSON.parse(text));
      if (parsed.success) return { kind: 'ok', value: parsed.data };
      const issue = parsed.error.issues[0];
      reason = `unexpected content${issue ? ` at ${issue.path.join('.') || '(root)'}: ${issue.message}` : ''}`;
    } catch (err) {
      reason = text.trim() === '' ? 'empty (truncated) file' : `not JSON (${(err as Error).message})`;
    }
    const keptAs = `${this.path}.corrupt-${stamp((this.opts.now ?? Date.now)())}`;
    this.corruptKeptAs = keptAs;
    this.opts.logger?.error(
      { stateFile: this.path, reason, keptAs },
      `state file ${this.path} is corrupt (${reason}): starting from an empty state; the file is kept as ${keptAs}`,
    );
    return { kind: 'corrupt', reason, keptAs };
  }

  write(value: unknown): void {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true });
    if (this.corruptKeptAs) {
      try {
        renameSync(this.path, this.corruptKeptAs);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.corruptKeptAs = null;
    }
    writeFileAtomic.sync(this.path, `${JSON.stringify(value, null, 2)}\n`, { fsync: true });
    fsyncDirectory(dir);
  }
}
