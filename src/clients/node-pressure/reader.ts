import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import {
  parseBytesOrMax,
  parseCgroup2Events,
  parseFlatKeyed,
  parseMeminfo,
  parseProcCgroup,
  parsePsi,
} from './parse.js';
import type { CgroupMemory, HeapUsage, PressureSample, Psi } from './types.js';

export interface PressureReaderOptions {
  /** every file is read below this folder (`MC_HOST_ROOT`, default `/`), so tests point it at a fixture tree */
  root?: string;
  /** include V8 heap numbers of this process (default true) */
  heap?: boolean;
  now?: () => number;
}

/** v1 reports "unlimited" as a page-rounded 2^63 − 1; anything this large is no limit. */
const V1_UNLIMITED = 2 ** 62;

/** undefined = file missing or unreadable (absence is normal: not every host has every signal) */
async function readText(root: string, rel: string): Promise<string | undefined> {
  try {
    return await readFile(join(root, rel), 'utf8');
  } catch {
    return undefined;
  }
}

async function firstExisting(root: string, dirs: string[], file: string): Promise<string | undefined> {
  for (const dir of dirs) {
    if ((await readText(root, join(dir, file))) !== undefined) return dir;
  }
  return undefined;
}

/** Candidate folders for our own cgroup: the path from /proc/self/cgroup, then the mount root (cgroup namespaces). */
function candidates(mount: string, own: string | null): string[] {
  const dirs = own && own !== '/' ? [join(mount, own), mount] : [mount];
  return [...new Set(dirs)];
}

async function readCgroup2(root: string, dir: string, problems: string[]): Promise<CgroupMemory | null> {
  const current = parseBytesOrMax((await readText(root, join(dir, 'memory.current'))) ?? '');
  if (current === undefined || current === null) {
    problems.push(`${dir}/memory.current: not a byte count`);
    return null;
  }
  const maxText = await readText(root, join(dir, 'memory.max'));
  const limit = maxText === undefined ? null : parseBytesOrMax(maxText);
  if (limit === undefined) problems.push(`${dir}/memory.max: not a byte count or "max"`);
  const highText = await readText(root, join(dir, 'memory.high'));
  const high = highText === undefined ? null : parseBytesOrMax(highText);
  const stat = await readText(root, join(dir, 'memory.stat'));
  const eventsText = await readText(root, join(dir, 'memory.events'));
  const events = eventsText === undefined ? null : parseCgroup2Events(eventsText);
  if (eventsText !== undefined && !events) problems.push(`${dir}/memory.events: no counters found`);
  return {
    version: 2,
    dir,
    currentBytes: current,
    limitBytes: limit ?? null,
    highBytes: high ?? null,
    inactiveFileBytes: stat === undefined ? null : (parseFlatKeyed(stat).get('inactive_file') ?? null),
    events,
  };
}

async function readCgroup1(root: string, dir: string, problems: string[]): Promise<CgroupMemory | null> {
  const usage = parseBytesOrMax((await readText(root, join(dir, 'memory.usage_in_bytes'))) ?? '');
  if (usage === undefined || usage === null) {
    problems.push(`${dir}/memory.usage_in_bytes: not a byte count`);
    return null;
  }
  const limitRaw = parseBytesOrMax((await readText(root, join(dir, 'memory.limit_in_bytes'))) ?? '');
  const limit = typeof limitRaw === 'number' && limitRaw < V1_UNLIMITED ? limitRaw : null;
  const stat = await readText(root, join(dir, 'memory.stat'));
  const failcnt = parseBytesOrMax((await readText(root, join(dir, 'memory.failcnt'))) ?? '');
  const oomControl = await readText(root, join(dir, 'memory.oom_control'));
  const oomKill = oomControl === undefined ? undefined : parseFlatKeyed(oomControl).get('oom_kill');
  const hasEvents = typeof failcnt === 'number' || oomKill !== undefined;
  return {
    version: 1,
    dir,
    currentBytes: usage,
    limitBytes: limit,
    highBytes: null,
    inactiveFileBytes: stat === undefined ? null : (parseFlatKeyed(stat).get('total_inactive_file') ?? null),
    events: hasEvents ? { max: typeof failcnt === 'number' ? failcnt : 0, high: 0, oom: 0, oomKill: oomKill ?? 0 } : null,
  };
}

function readHeap(): HeapUsage | null {
  const s = getHeapStatistics();
  return s.heap_size_limit > 0 ? { usedBytes: s.used_heap_size, limitBytes: s.heap_size_limit } : null;
}

/**
 * Reads every memory signal that exists, best source first: our cgroup v2 files, else v1, plus system PSI and
 * /proc/meminfo. Never throws for a missing or malformed file; `problems` lists what was present but unreadable.
 */
export async function readPressure(options: PressureReaderOptions = {}): Promise<PressureSample> {
  const root = options.root ?? '/';
  const problems: string[] = [];
  const at = (options.now ?? Date.now)();
  const own = parseProcCgroup((await readText(root, 'proc/self/cgroup')) ?? '');

  let cgroup: CgroupMemory | null = null;
  let psi: Psi | null = null;
  const v2dir = await firstExisting(root, candidates('sys/fs/cgroup', own.v2), 'memory.current');
  if (v2dir !== undefined) {
    cgroup = await readCgroup2(root, v2dir, problems);
    const text = await readText(root, join(v2dir, 'memory.pressure'));
    if (text !== undefined) {
      psi = parsePsi(text, 'cgroup');
      if (!psi) problems.push(`${v2dir}/memory.pressure: not in PSI format`);
    }
  } else {
    const v1dir = await firstExisting(root, candidates('sys/fs/cgroup/memory', own.v1memory), 'memory.usage_in_bytes');
    if (v1dir !== undefined) cgroup = await readCgroup1(root, v1dir, problems);
  }
  if (!psi) {
    const text = await readText(root, 'proc/pressure/memory');
    if (text !== undefined) {
      psi = parsePsi(text, 'system');
      if (!psi) problems.push('proc/pressure/memory: not in PSI format');
    }
  }
  const meminfoText = await readText(root, 'proc/meminfo');
  const meminfo = meminfoText === undefined ? null : parseMeminfo(meminfoText);
  if (meminfoText !== undefined && !meminfo) problems.push('proc/meminfo: MemTotal/MemAvailable not found');

  return {
    at,
    psi,
    cgroup,
    meminfo,
    heap: options.heap === false ? null : readHeap(),
    nodeMemoryPressure: null,
    problems,
  };
}

/** True when the sample carries at least one host/cgroup memory signal (the heap alone says nothing about RAM). */
export function hasHostSignal(sample: PressureSample): boolean {
  return sample.psi !== null || sample.cgroup !== null || sample.meminfo !== null || sample.nodeMemoryPressure !== null;
}
