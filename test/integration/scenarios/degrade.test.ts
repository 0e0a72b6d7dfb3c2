import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { mustOnce, scenario, useStage } from '../harness/runner.js';

/**
 * Legacy S4 through the CLI: a fixture host root (meminfo only) under MC_HOST_ROOT, `once` under
 * cron enters degrade mode at the kit's thresholds, then back to normal when memory recovers; the
 * kit-compatible state file and one Discord notice per transition show it.
 */
const stage = useStage({ seed: 'empty' });
const FIXTURE = fileURLToPath(new URL('../../fixtures/host/meminfo-only', import.meta.url));

function meminfo(root: string, usedPct: number): void {
  const total = 8_000_000;
  const available = Math.round(total * (1 - usedPct / 100));
  writeFileSync(join(root, 'proc/meminfo'), `MemTotal:        ${total} kB\nMemFree:         ${available} kB\nMemAvailable:    ${available} kB\n`);
}

describe('degrade mode', () => {
  scenario('S4 resource monitor: 95 % used → degrade (one notice), 40 % used → normal (one notice), kit state file follows', async () => {
    const root = mkdtempSync(join(tmpdir(), 'mc-host-'));
    cpSync(FIXTURE, root, { recursive: true });
    const stateFile = join(root, 'resource-state.json');
    const env = {
      MC_HOST_ROOT: root,
      MC_RESOURCE_STATE_FILE: stateFile,
      MC_RESOURCE_WARN_PCT: '80',
      MC_RESOURCE_DEGRADE_PCT: '90',
      MC_RESOURCE_RECOVER_PCT: '85',
      MC_DEGRADE_ENTER_DWELL_SECONDS: '0',
      MC_DEGRADE_EXIT_DWELL_SECONDS: '0',
      MC_DEGRADE_MIN_SECONDS: '0',
      MC_DEGRADE_FLAP_SECONDS: '0',
    };
    const mode = () => (JSON.parse(readFileSync(stateFile, 'utf8')) as { mode?: string }).mode;
    const notices = async () => (await stage.world.messages()).map((m) => m.content).filter((c) => /degrade mode ativado|Recover de recursos/.test(c));

    meminfo(root, 95);
    await mustOnce(stage, env);
    await mustOnce(stage, env);
    expect(mode()).toBe('degrade');
    expect(await notices()).toEqual([expect.stringMatching(/degrade mode ativado/)]);

    meminfo(root, 40);
    await mustOnce(stage, env);
    await mustOnce(stage, env);
    expect(mode()).toBe('normal');
    const all = await notices();
    expect(all).toHaveLength(2);
    expect(all[1]).toMatch(/Recover de recursos/);
  });
});
