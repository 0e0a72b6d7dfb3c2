import { describe, expect, it } from 'vitest';
import { buildReadiness } from './readiness.js';

describe('buildReadiness', () => {
  it('needs valid config and fresh sources; a healthy standby is ready and says so', () => {
    let leader = false;
    let boardAt: number | null = null;
    const now = 1_000_000;
    const readiness = buildReadiness({
      configValid: () => true,
      sources: [
        { name: 'mission-control', lastSuccessAt: () => boardAt, maxAgeMs: 90_000 },
        { name: 'gateway', lastSuccessAt: () => now - 1000, maxAgeMs: 90_000 },
      ],
      isLeader: () => leader,
      currentLeader: () => 'pod-a',
      now: () => now,
    });
    expect(readiness().ready).toBe(false);
    expect(readiness().checks.find((c) => c.name === 'sync:mission-control')?.detail).toBe('not synced yet');
    boardAt = now - 10_000;
    expect(readiness()).toMatchObject({ ready: true, role: 'standby' });
    expect(readiness().checks.at(-1)?.detail).toBe('standby (leader: pod-a)');
    leader = true;
    expect(readiness()).toMatchObject({ ready: true, role: 'leader' });
    boardAt = now - 100_000;
    expect(readiness().ready).toBe(false);
  });
});
