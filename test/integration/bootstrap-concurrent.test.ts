/**
 * Two replicas bootstrapping at once (issue 12, item 6). Upstream answers the losing create of a
 * field key with a bare 500 (unique constraint), which the sandbox reproduces; bootstrap must then
 * read the list again and bind to the winner's field: both processes exit 0 and each key exists once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESIRED_FIELDS } from '../../src/model/index.js';
import { startSandbox, type SandboxHandle } from '../../src/sandbox/index.js';
import { runCli } from '../support/cli.js';

let sandbox: SandboxHandle;

beforeAll(async () => {
  sandbox = await startSandbox({ seed: 'empty' });
});
afterAll(() => sandbox?.close());

const faults = (body: unknown) =>
  fetch(`${sandbox.info.controlUrl}/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('concurrent bootstrap', () => {
  it('two bootstrap processes at once both exit 0 and leave each controller field exactly once', { timeout: 90_000 }, async () => {
    const env = (n: number) => ({
      MC_API_URL: sandbox.info.mcApiUrl,
      MC_AUTH_TOKEN: sandbox.info.mcAuthToken,
      MC_BOARD_ID: sandbox.info.boardId,
      MC_STATE_DIR: mkdtempSync(join(tmpdir(), `mc-boot-${n}-`)),
      MC_LOG_LEVEL: 'warn',
    });
    // Every request takes 400 ms, so the two runs overlap for the whole create sequence even when one
    // process starts a second later than the other.
    await faults({ mc: { errorRate: 0, latencyMs: 400 } });
    const [a, b] = await Promise.all([1, 2].map((n) => runCli(['bootstrap', '--json'], env(n), { timeoutMs: 80_000 })));
    await faults({});
    expect(a?.code, a?.stderr).toBe(0);
    expect(b?.code, b?.stderr).toBe(0);
    const reports = [a, b].map((r) => JSON.parse(r?.stdout ?? '{}') as { created: string[]; bound: string[]; noop: string[] });
    // the race really happened: some create lost to the other process and was bound instead
    expect(reports.flatMap((r) => r.bound).length).toBeGreaterThan(0);
    for (const key of DESIRED_FIELDS.map((d) => d.fieldKey)) {
      expect(reports.filter((r) => r.created.includes(key)), key).toHaveLength(1);
    }
    const defs = (await (
      await fetch(`${sandbox.info.mcApiUrl}/organizations/me/custom-fields`, { headers: { authorization: `Bearer ${sandbox.info.mcAuthToken}` } })
    ).json()) as Array<{ field_key: string; board_ids: string[] }>;
    for (const want of DESIRED_FIELDS) {
      const found = defs.filter((d) => d.field_key === want.fieldKey);
      expect(found, want.fieldKey).toHaveLength(1);
      expect(found[0]?.board_ids).toEqual([sandbox.info.boardId]);
    }
  });
});
