import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Linux reports process CPU in clock ticks of USER_HZ, which is 100 on every architecture Node runs on. */
const TICK_MS = 10;

/**
 * CPU used so far (user + system, ms) by every process in a process group: the real gateway runs in its own
 * group (it is started detached) with its workers. Null where /proc cannot tell (not Linux).
 */
export function processGroupCpuMs(pgid: number): number | null {
  let ticks = 0;
  let found = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // fields after "(comm)": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(f[2]) !== pgid) continue;
    found = true;
    ticks += Number(f[11]) + Number(f[12]);
  }
  return found ? ticks * TICK_MS : null;
}

/** This process's CPU so far (user + system, ms). */
export const ownCpuMs = (): number => {
  const u = process.cpuUsage();
  return Math.round((u.user + u.system) / 1000);
};

/**
 * The shortest wall time the CPU the three parties used allows on this machine's cores: what the pass would
 * take if every core were kept busy from start to end. A pass far above it waits; a pass near it is CPU-bound,
 * and only less CPU (ours or the peers') makes it faster.
 */
export const cpuBoundMs = (cpuMs: number): number => Math.round(cpuMs / availableParallelism());
