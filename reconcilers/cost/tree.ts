import { hashOf, type GatewayView, type Session } from '../../src/model/index.js';

/** Spawn depth is capped at 5 upstream; the key cap only guards against a malformed lineage loop. */
const MAX_KEYS = 500;

const ACTIVE = new Set(['queued', 'running']);

/**
 * The linked session and every session it spawned, transitively (children of children count too: their
 * cost was incurred on the task's behalf). Breadth first, each key once.
 */
export function sessionTree(root: string, gateway: GatewayView): string[] {
  const seen = new Set<string>([root]);
  const queue = [root];
  while (queue.length > 0 && seen.size < MAX_KEYS) {
    const parent = queue.shift()!;
    for (const child of gateway.children.get(parent) ?? []) {
      if (seen.has(child.key)) continue;
      seen.add(child.key);
      queue.push(child.key);
    }
  }
  return [...seen];
}

function rowVersion(s: Session | undefined): unknown[] {
  return [s?.updatedAt ?? null, s?.lastActivityAt ?? null, s?.endedAt ?? null, s?.status ?? null];
}

/**
 * What the usage of a tree depends on: its keys and each row's version. Kept in the ledger with the last
 * recorded cost, so a pass over an unchanged tree asks the gateway for nothing.
 */
export function treeVersion(keys: readonly string[], gateway: GatewayView): string {
  const rows = [...keys].sort().map((k) => [k, ...rowVersion(gateway.sessions.get(k))]);
  return hashOf(rows).slice(0, 16);
}

/** No run in the tree is going on (an unlisted row counts as idle: it cannot spend anything we could see). */
export function treeIdle(keys: readonly string[], gateway: GatewayView): boolean {
  return keys.every((k) => {
    const s = gateway.sessions.get(k);
    if (!s) return true;
    return s.hasActiveRun !== true && !ACTIVE.has(String(s.status ?? ''));
  });
}

/** Epoch ms of the tree's newest row change, or null when no listed row says. */
export function treeLastChange(keys: readonly string[], gateway: GatewayView): number | null {
  let newest: number | null = null;
  for (const k of keys) {
    const s = gateway.sessions.get(k);
    for (const t of [s?.updatedAt, s?.lastActivityAt, s?.endedAt]) if (typeof t === 'number' && (newest === null || t > newest)) newest = t;
  }
  return newest;
}
