import { basename } from 'node:path';
import type { ProcessInfo } from './list.js';

/**
 * Processes the kill path must never signal, whatever the allowlist says. The planner sees the verdict in its
 * input and the kill handler asks again right before each signal, so either alone is enough.
 */

export interface SelfIdentity {
  pid: number;
  ppid: number;
}

export const selfIdentity = (): SelfIdentity => ({ pid: process.pid, ppid: process.ppid });

/**
 * An OpenClaw gateway (or its helper workers): the `openclaw` CLI or a binary/script named openclaw*, the
 * `openclaw-gateway` process title, or a script inside the installed openclaw package. Deliberately NOT
 * "contains openclaw" (the kit's rule): the workspace lives in the openclaw user's home, so that matched everything.
 */
export function looksLikeGateway(p: Pick<ProcessInfo, 'argv' | 'exe'>): boolean {
  const names = [...p.argv.slice(0, 3), p.exe ?? ''].map((a) => basename(a.split(' ')[0] ?? '').toLowerCase());
  if (names.some((n) => n.startsWith('openclaw'))) return true;
  return p.argv.some((a) => /(^|\/)node_modules\/openclaw\/|(^|\/)openclaw\/dist\//i.test(a));
}

/** Why `p` is protected, or null when it may be signalled. */
export function protectedReason(p: Pick<ProcessInfo, 'pid' | 'argv' | 'exe'>, self: SelfIdentity = selfIdentity()): string | null {
  if (p.pid <= 1) return 'init';
  if (p.pid === self.pid) return 'self';
  if (p.pid === self.ppid) return 'parent';
  if (looksLikeGateway(p)) return 'gateway';
  return null;
}
