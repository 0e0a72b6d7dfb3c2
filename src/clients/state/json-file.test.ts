import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturingLogger } from '../../../test/support/logs.js';
import { z } from 'zod';
import { GLOBAL_LEDGER_LIMIT, GlobalStateFile } from '../../runtime/global-state.js';
import { JsonStateFile } from './json-file.js';
import { EffectsDoor } from '../../runtime/effects/door.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mc-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));


const anyObject = z.looseObject({});
const AT = Date.UTC(2026, 11, 4, 17, 39, 12, 345);

describe('JsonStateFile', () => {
  it('writes the whole file and leaves no temp file behind; reads it back', () => {
    const file = new JsonStateFile(join(dir, 'sub', 'state.json'));
    expect(file.read(anyObject)).toEqual({ kind: 'missing' });
    file.write({ a: 1 });
    file.write({ a: 2, b: 'x'.repeat(100_000) });
    expect(readdirSync(join(dir, 'sub'))).toEqual(['state.json']);
    expect(file.read(anyObject)).toEqual({ kind: 'ok', value: { a: 2, b: 'x'.repeat(100_000) } });
  });

  it.each([
    ['truncated to nothing', ''],
    ['cut mid-way', '{"ledger": {"k": {"s": "do'],
    ['not an object', '[1, 2]'],
  ])('a file %s is logged as corrupt and kept aside before the next write, never reset silently', (_name, text) => {
    const path = join(dir, 'state.json');
    writeFileSync(path, text);
    const { logger, lines } = capturingLogger();
    const file = new JsonStateFile(path, { logger, now: () => AT });
    const read = file.read(anyObject);
    expect(read).toMatchObject({ kind: 'corrupt', keptAs: `${path}.corrupt-2026-12-04T17-39-12-345Z` });
    expect(lines.filter((l) => l['level'] === 50 && String(l['msg']).includes('is corrupt'))).toHaveLength(1);
    // reading alone (a dry run) moves nothing
    expect(readFileSync(path, 'utf8')).toBe(text);
    file.write({ fresh: true });
    expect(readFileSync(`${path}.corrupt-2026-12-04T17-39-12-345Z`, 'utf8')).toBe(text);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ fresh: true });
  });
});

describe('GlobalStateFile', () => {
  it('keeps a truncated state.json aside and starts empty', () => {
    writeFileSync(join(dir, 'state.json'), '{"ledger":{"approval-notice');
    const { logger, lines } = capturingLogger();
    const state = new GlobalStateFile(dir, EffectsDoor.open(), { logger });
    expect(state.get().ledger).toEqual({});
    state.setLedger('k', { s: 'done', at: 1 });
    expect(readdirSync(dir).filter((f) => f.startsWith('state.json.corrupt-'))).toHaveLength(1);
    expect(lines.some((l) => String(l['msg']).includes('is corrupt'))).toBe(true);
  });

  it('drops a malformed ledger entry alone and keeps the others', () => {
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ firstRunAt: { b: 5 }, ledger: { good: { s: 'done', at: 1 }, junk: 5 } }));
    const { logger, lines } = capturingLogger();
    const state = new GlobalStateFile(dir, EffectsDoor.open(), { logger });
    expect(state.get().ledger).toEqual({ good: { s: 'done', at: 1 } });
    expect(state.get().firstRunAt).toEqual({ b: 5 });
    expect(lines.filter((l) => String(l['msg']).includes('malformed state ledger'))).toHaveLength(1);
  });

  it('prunes the ledger like a task ledger: the oldest entries go first', () => {
    const ledger = Object.fromEntries(Array.from({ length: GLOBAL_LEDGER_LIMIT + 19 }, (_, i) => [`k${i}`, { s: 'done', at: 1_000 + i }]));
    writeFileSync(join(dir, 'state.json'), JSON.stringify({ ledger }));
    new GlobalStateFile(dir, EffectsDoor.open()).setLedger(`k${GLOBAL_LEDGER_LIMIT + 19}`, { s: 'done', at: 1_000 + GLOBAL_LEDGER_LIMIT + 19 });
    const reread = new GlobalStateFile(dir, EffectsDoor.open()).get().ledger;
    expect(Object.keys(reread)).toHaveLength(GLOBAL_LEDGER_LIMIT);
    expect(reread['k0']).toBeUndefined();
    expect(reread[`k${GLOBAL_LEDGER_LIMIT + 19}`]).toEqual({ s: 'done', at: 1_000 + GLOBAL_LEDGER_LIMIT + 19 });
  });
});
