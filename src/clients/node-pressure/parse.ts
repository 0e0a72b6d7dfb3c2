import type { CgroupEvents, MemInfo, Psi, PsiLine } from './types.js';

/**
 * Parsers for the kernel's text formats. Each returns null for content it does not recognise, so a truncated or
 * foreign file becomes "signal absent" plus one problem line instead of an exception.
 */

const PSI_LINE = /^(some|full)\s+(.*)$/;

function parsePsiFields(rest: string): PsiLine | null {
  const fields = new Map<string, number>();
  for (const pair of rest.trim().split(/\s+/)) {
    const [k, v] = pair.split('=');
    if (!k || v === undefined) return null;
    const n = Number(v);
    if (!Number.isFinite(n)) return null;
    fields.set(k, n);
  }
  const avg10 = fields.get('avg10');
  const avg60 = fields.get('avg60');
  const avg300 = fields.get('avg300');
  const total = fields.get('total');
  if (avg10 === undefined || avg60 === undefined || avg300 === undefined || total === undefined) return null;
  return { avg10, avg60, avg300, total };
}

/** `/proc/pressure/memory` and cgroup v2 `memory.pressure` share this format. */
export function parsePsi(text: string, source: Psi['source']): Psi | null {
  let some: PsiLine | null = null;
  let full: PsiLine | null = null;
  for (const line of text.split('\n')) {
    const m = PSI_LINE.exec(line.trim());
    if (!m) continue;
    const parsed = parsePsiFields(m[2]!);
    if (!parsed) return null;
    if (m[1] === 'some') some = parsed;
    else full = parsed;
  }
  return some ? { some, full, source } : null;
}

/** A byte count, or null for `max` (v2 unlimited). Undefined when the text is not a number. */
export function parseBytesOrMax(text: string): number | null | undefined {
  const t = text.trim();
  if (t === 'max') return null;
  if (!/^\d+$/.test(t)) return undefined;
  return Number(t);
}

/** `key value` per line (memory.events, memory.stat, memory.oom_control). */
export function parseFlatKeyed(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v, extra] = line.trim().split(/\s+/);
    if (!k || v === undefined || extra !== undefined) continue;
    const n = Number(v);
    if (Number.isFinite(n)) out.set(k, n);
  }
  return out;
}

export function parseCgroup2Events(text: string): CgroupEvents | null {
  const m = parseFlatKeyed(text);
  if (!m.has('oom') && !m.has('oom_kill') && !m.has('max')) return null;
  return { max: m.get('max') ?? 0, high: m.get('high') ?? 0, oom: m.get('oom') ?? 0, oomKill: m.get('oom_kill') ?? 0 };
}

/** `/proc/meminfo`: values are in kB. */
export function parseMeminfo(text: string): MemInfo | null {
  let total: number | undefined;
  let available: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^(MemTotal|MemAvailable):\s+(\d+)\s*kB/.exec(line);
    if (!m) continue;
    if (m[1] === 'MemTotal') total = Number(m[2]) * 1024;
    else available = Number(m[2]) * 1024;
  }
  if (total === undefined || available === undefined || total <= 0) return null;
  return { totalBytes: total, availableBytes: available };
}

/**
 * `/proc/self/cgroup`: `0::/path` on v2, `N:controllers:/path` on v1. Returns our cgroup path per hierarchy.
 */
export function parseProcCgroup(text: string): { v2: string | null; v1memory: string | null } {
  let v2: string | null = null;
  let v1memory: string | null = null;
  for (const line of text.split('\n')) {
    const parts = line.trim().split(':');
    if (parts.length < 3) continue;
    const [id, controllers] = parts;
    const path = parts.slice(2).join(':');
    if (id === '0' && controllers === '') v2 = path;
    else if (controllers!.split(',').includes('memory')) v1memory = path;
  }
  return { v2, v1memory };
}
