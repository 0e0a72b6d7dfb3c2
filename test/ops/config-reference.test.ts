import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { REGENERATE_COMMAND, renderConfigReference } from '../../src/config/reference.js';
import { defaultOf, settings } from '../../src/config/settings.js';

const DOC = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));

describe('docs/configuration.md', () => {
  it('is the reference generated from the current schema', () => {
    const committed = readFileSync(DOC, 'utf8');
    const generated = renderConfigReference();
    // A plain boolean keeps the failure message short and actionable instead of a 300-line diff.
    const fresh = committed === generated;
    expect(fresh, `docs/configuration.md is stale; regenerate it with:\n  ${REGENERATE_COMMAND}`).toBe(true);
  });
});

describe('renderConfigReference', () => {
  const text = renderConfigReference();
  const rows = text.split('\n').filter((l) => l.startsWith('| `'));

  it('has one table row per setting, each naming its env var and kit file key', () => {
    expect(rows).toHaveLength(settings().length);
    for (const s of settings()) {
      const row = rows.find((r) => r.startsWith(`| \`${s.path.join('.')}\` |`));
      expect(row, s.path.join('.')).toBeDefined();
      if (s.meta.env) expect(row).toContain(`\`${s.meta.env}\``);
      if (s.meta.file) expect(row).toContain(`\`${s.meta.file}\``);
    }
  });

  it('shows no default for secrets and the real default for the rest', () => {
    for (const s of settings()) {
      const cells = rows.find((r) => r.startsWith(`| \`${s.path.join('.')}\` |`))!.split(' | ');
      const shown = cells[3];
      if (s.meta.secret) expect(shown).toBe('none');
      else if (typeof defaultOf(s) === 'number') expect(shown).toBe(`\`${String(defaultOf(s))}\``);
    }
  });

  it('explains precedence and lists enum values', () => {
    expect(text).toMatch(/later source wins/);
    expect(text).toContain('`auto`, `lease`, `lockfile`, `none`');
  });

  it('keeps every row a five-column table line', () => {
    // An unescaped `|` in a description would add a column.
    for (const r of rows) expect(r.replace(/\\\|/g, '').split('|')).toHaveLength(7);
  });
});
