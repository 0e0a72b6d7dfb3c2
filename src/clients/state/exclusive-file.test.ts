import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ExclusiveFile } from './exclusive-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mc-exclusive-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const holder = z.object({ pid: z.number() });

describe('ExclusiveFile', () => {
  it('is created by exactly one caller, as one JSON line, in a folder it creates', () => {
    const path = join(dir, 'sub', 'controller.lock');
    const file = new ExclusiveFile(path);
    expect(file.read(holder)).toEqual({ kind: 'missing' });
    expect(file.create({ pid: 7 })).toBe(true);
    expect(new ExclusiveFile(path).create({ pid: 8 })).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('{"pid":7}\n');
    expect(file.read(holder)).toEqual({ kind: 'ok', value: { pid: 7 } });
  });

  it('tells content it cannot use from a path it cannot read', () => {
    const path = join(dir, 'x.lock');
    const file = new ExclusiveFile(path);
    for (const text of ['', '{"pid":', '{"pid":"seven"}']) {
      writeFileSync(path, text);
      expect(file.read(holder), JSON.stringify(text)).toEqual({ kind: 'invalid' });
    }
    rmSync(path);
    mkdirSync(path);
    expect(file.read(holder)).toEqual({ kind: 'unreadable' });
  });

  it('moves aside and removes; removing what is gone is no error', () => {
    const path = join(dir, 'x.lock');
    const file = new ExclusiveFile(path);
    file.create({ pid: 1 });
    expect(file.ageMs()).not.toBeNull();
    file.moveTo(`${path}.stale`);
    expect(file.read(holder)).toEqual({ kind: 'missing' });
    expect(file.ageMs()).toBeNull();
    expect(readFileSync(`${path}.stale`, 'utf8')).toBe('{"pid":1}\n');
    file.removeQuietly();
    const stale = new ExclusiveFile(`${path}.stale`);
    stale.removeQuietly();
    expect(stale.read(holder)).toEqual({ kind: 'missing' });
  });
});
