import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { fsyncDirectory } from './fsync.js';

/** What reading an exclusive file found. */
export type ExclusiveRead<T> =
  | { kind: 'missing' }
  | { kind: 'ok'; value: T }
  /** read, but not JSON or not what the schema expects (e.g. still being written) */
  | { kind: 'invalid' }
  /** there, but it cannot be read as a file (a folder, no permission, …) */
  | { kind: 'unreadable' };

/**
 * A small JSON file that exactly one process may create (O_CREAT|O_EXCL): the controller's lock file and its
 * takeover guard. The content is fsynced before the file counts as created, so a crash right after a create never
 * leaves an empty lock behind that looks torn to the next process. Not behind the effects door: holding the lock is
 * what opens the door, and a dry run never competes for it.
 */
export class ExclusiveFile {
  constructor(readonly path: string) {}

  /** Creates the file holding `value` as one JSON line; false when it exists already. */
  create(value: unknown): boolean {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true });
    let fd: number;
    try {
      fd = openSync(this.path, 'wx', 0o644);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    try {
      writeSync(fd, `${JSON.stringify(value)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    fsyncDirectory(dir);
    return true;
  }

  read<T>(schema: z.ZodType<T>): ExclusiveRead<T> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ENOENT' ? { kind: 'missing' } : { kind: 'unreadable' };
    }
    try {
      const parsed = schema.safeParse(JSON.parse(text));
      return parsed.success ? { kind: 'ok', value: parsed.data } : { kind: 'invalid' };
    } catch {
      return { kind: 'invalid' };
    }
  }

  /** How long ago it was last written (ms); null when it cannot be looked at. */
  ageMs(now = Date.now()): number | null {
    try {
      return now - statSync(this.path).mtimeMs;
    } catch {
      return null;
    }
  }

  /** Atomically renames it to `target` (kept for an operator to look at). */
  moveTo(target: string): void {
    renameSync(this.path, target);
  }

  /** Removes it; a file already gone (or not ours to remove) is not an error. */
  removeQuietly(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // gone already
    }
  }
}
