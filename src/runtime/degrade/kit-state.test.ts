import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EffectsDoor } from '../effects/door.js';
import { writeKitResourceState } from '../effects/kit-resource-state.js';
import { readKitResourceState } from './kit-state.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'mc-kit-state-'));
  dirs.push(d);
  return d;
};

describe('kit resource state file', () => {
  it('round-trips the degrade mode and entry time', async () => {
    const path = join(await tmp(), 'ws', '.mc-resource-state.json');
    writeKitResourceState(EffectsDoor.open(), path, { mode: 'degrade', entered_at_ms: 1234, load_pct: 93 });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual({ mode: 'degrade', entered_at_ms: 1234, load_pct: 93 });
    expect(await readKitResourceState(path)).toEqual({ mode: 'degrade', since: 1234 });
  });

  it('normal, missing, foreign or broken files resume nothing', async () => {
    const dir = await tmp();
    const path = join(dir, 's.json');
    expect(await readKitResourceState(path)).toBeNull();
    await writeFile(path, '{"mode":"normal","entered_at_ms":5}');
    expect(await readKitResourceState(path)).toBeNull();
    await writeFile(path, '{"level":"degraded"}');
    expect(await readKitResourceState(path)).toBeNull();
    await writeFile(path, '{not json');
    expect(await readKitResourceState(path)).toBeNull();
  });
});
