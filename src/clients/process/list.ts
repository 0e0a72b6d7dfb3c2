import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Process table read from `<root>/proc` (MC_HOST_ROOT). Only what the kill allowlist needs: argv, executable,
 * parent, start time (to tell a reused pid from the process we matched) and whether it is already a zombie.
 */

export interface ProcessInfo {
  pid: number;
  ppid: number | null;
  argv: string[];
  /** argv joined with spaces: what the allowlist patterns and the kill action's `command` compare against */
  command: string;
  /** resolved /proc/<pid>/exe; null when unreadable (another user's process, kernel thread) */
  exe: string | null;
  /** clock ticks since boot (stat field 22); null when unreadable */
  startTicks: number | null;
  /** exited but not reaped: it no longer uses memory and can no longer be signalled usefully */
  zombie: boolean;
}

async function text(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** `pid (comm) S ppid …`: comm may hold spaces and parentheses, so fields are counted from the last `)`. */
function parseStat(stat: string): { state: string; ppid: number; startTicks: number } | null {
  const close = stat.lastIndexOf(')');
  if (close < 0) return null;
  const rest = stat.slice(close + 2).split(' ');
  const state = rest[0];
  const ppid = Number(rest[1]);
  const startTicks = Number(rest[19]);
  if (!state || !Number.isInteger(ppid) || !Number.isFinite(startTicks)) return null;
  return { state, ppid, startTicks };
}

/** One process, or null when it is gone or is a kernel thread (no command line). */
export async function readProcess(pid: number, root = '/'): Promise<ProcessInfo | null> {
  const dir = join(root, 'proc', String(pid));
  const cmdline = await text(join(dir, 'cmdline'));
  if (cmdline === undefined) return null;
  const stat = parseStat((await text(join(dir, 'stat'))) ?? '');
  const argv = cmdline.split('\0').filter((a, i, all) => a.length > 0 || i < all.length - 1);
  const zombie = stat?.state === 'Z';
  if (argv.length === 0 && !zombie) return null;
  let exe: string | null = null;
  try {
    exe = await readlink(join(dir, 'exe'));
  } catch {
    exe = null;
  }
  return { pid, ppid: stat?.ppid ?? null, argv, command: argv.join(' '), exe, startTicks: stat?.startTicks ?? null, zombie };
}

/** Every user-space process visible under `<root>/proc`; processes vanishing mid-read are simply left out. */
export async function listProcesses(root = '/'): Promise<ProcessInfo[]> {
  let entries: string[];
  try {
    entries = await readdir(join(root, 'proc'));
  } catch {
    return [];
  }
  const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number);
  const out = await Promise.all(pids.map((pid) => readProcess(pid, root)));
  return out.filter((p): p is ProcessInfo => p !== null && !p.zombie);
}
