import { closeSync, fsyncSync, openSync } from 'node:fs';

/** The directory entry of a create or rename is durable only once the directory itself is synced. */
export function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // some file systems refuse fsync on a directory; the file's own fsync has happened already
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
