import { describe, expect, it } from 'vitest';
import {
  CONTENT_LIMIT,
  EMBED_DESCRIPTION_LIMIT,
  NONCE_LIMIT,
  escapeUntrusted,
  fitMessage,
  nonceFor,
  refLine,
  truncate,
} from './discord-text.js';

describe('escapeUntrusted', () => {
  it.each([
    ['@everyone look', /@everyone/],
    ['@here now', /@here/],
    ['ping <@123456789012345678>', /<@\d/],
    ['role <@&123456789012345678>', /<@&\d/],
    ['nick <@!123456789012345678>', /<@!\d/],
  ])('breaks mention syntax in %j', (input, forbidden) => {
    const out = escapeUntrusted(input);
    expect(out).not.toMatch(forbidden);
    expect(out.replace(/\u200b/g, '')).toContain(input.replace(/^.* /, '').replace(/[<>]/g, '').slice(0, 3));
  });

  it('escapes masked links, emphasis, code, headings and subtext', () => {
    expect(escapeUntrusted('[free nitro](https://evil.example)')).toBe('\\[free nitro](https://evil.example)');
    expect(escapeUntrusted('**bold** `code`')).toBe('\\*\\*bold\\*\\* \\`code\\`');
    expect(escapeUntrusted('# Big')).toBe('\\# Big');
    expect(escapeUntrusted('-# ref abc')).toBe('\\-# ref abc');
  });

  it('strips ANSI escapes, C0 control characters and bidi overrides, keeping newlines and tabs', () => {
    expect(escapeUntrusted('\u001b[31mred\u001b[0m done')).toBe('red done');
    expect(escapeUntrusted('\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007')).toBe('link');
    expect(escapeUntrusted('a\u0000b\u0007c\u0008d\u007fe')).toBe('abcde');
    expect(escapeUntrusted('line 1\r\nline 2\tcol')).toBe('line 1\nline 2\tcol');
    // "exe.txt" that renders as "txt.exe", and every other override/isolate
    expect(escapeUntrusted('report\u202Etxt.exe')).toBe('reporttxt.exe');
    const bidi = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
    expect(escapeUntrusted(`x${bidi.join('')}y`)).toBe('xy');
  });

  it('leaves plain text alone', () => {
    expect(escapeUntrusted('OK: output summary used')).toBe('OK: output summary used');
  });
});

describe('truncate', () => {
  it('keeps short text and cuts long text with an ellipsis', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcdef', 4)).toHaveLength(4);
  });
  it('never splits a surrogate pair', () => {
    const out = truncate('a😀😀😀', 3); // cut would land inside the first emoji
    expect(out).toBe('a…');
  });
});

describe('fitMessage', () => {
  const header = ['[Mission Control] Entrega', 'Task: t', 'Task ID: 1'];
  it('keeps a short message in content only', () => {
    const m = fitMessage({ header, bodyLabel: 'Resultado: ', body: 'short', footer: ['-# ref x'] });
    expect(m).toEqual({ content: `${header.join('\n')}\nResultado: short\n-# ref x` });
  });

  it.each([1990, 2001, 3000, 6000, 10_000])('fits a %i-char body in content ≤ 2000 and embed ≤ 4096', (n) => {
    const body = 'x'.repeat(n - 10) + '0123456789';
    const m = fitMessage({ header, bodyLabel: 'Resultado: ', body, footer: ['-# ref abc'] });
    expect(m.content.length).toBeLessThanOrEqual(CONTENT_LIMIT);
    expect(m.content.startsWith(header.join('\n'))).toBe(true);
    expect(m.content.endsWith('\n-# ref abc')).toBe(true);
    for (const e of m.embeds ?? []) expect(e.description.length).toBeLessThanOrEqual(EMBED_DESCRIPTION_LIMIT);
    const joined = (m.content + (m.embeds?.[0]?.description ?? '')).replace(/…/g, '');
    const total = header.join('\n').length + 1 + 'Resultado: '.length + n + '\n-# ref abc'.length;
    if (total <= CONTENT_LIMIT) expect(m.embeds).toBeUndefined();
    else expect(m.embeds).toHaveLength(1);
    // nothing is lost unless the body exceeds what content + embed can hold
    if (n <= 3000) expect(joined).toContain('0123456789');
    if (!joined.includes('0123456789')) {
      const description = m.embeds?.[0]?.description ?? '';
      expect(description.endsWith('…')).toBe(true);
      expect(description).toHaveLength(EMBED_DESCRIPTION_LIMIT);
    }
  });
});

describe('nonceFor', () => {
  it('is deterministic, short and distinct per key', () => {
    const keys = Array.from({ length: 500 }, (_, i) => `dlv-key-${i}`);
    const nonces = keys.map(nonceFor);
    expect(new Set(nonces).size).toBe(keys.length);
    for (const n of nonces) {
      expect(n.length).toBeGreaterThan(0);
      expect(n.length).toBeLessThanOrEqual(NONCE_LIMIT);
      expect(n).toMatch(/^[0-9a-z]+$/);
    }
    expect(nonceFor('dlv-key-1')).toBe(nonces[1]);
    expect(refLine('dlv-key-1')).toBe(`-# ref ${nonces[1]}`);
  });
});
